"""A derived event is emitted from its payload: the payload's contract gives its type, topic
and subject, and its id is derived from its cause and rule exactly as the hand-built events
derived it before."""

from __future__ import annotations

from datetime import datetime

import pytest

from emergency.worker import WORKER as EMERGENCY_WORKER
from fazhi.bus.batch import HandlerContext
from fazhi.bus.records import Outcome
from fazhi.contracts import contract_of, derived_event, topic_of, topic_of_type, type_of
from fazhi.contracts.emergency import SupplyLow
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from fazhi.contracts.models import Payload
from fazhi.contracts.supervision import ItemKind, ItemLevel, ItemOpened
from petition_mediation.worker import WORKER as MEDIATION_WORKER
from supervision.worker import WORKER as SUPERVISION_WORKER
from tests.support.harness import Harness
from tests.support.samples import sample

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)


def opened(item_id: str = "alert-A1") -> ItemOpened:
    return ItemOpened(
        item_id=item_id,
        kind=ItemKind.ALERT,
        unit="justice",
        level=ItemLevel.RED,
        title="暴雨红色预警",
        source_event_id="A1",
        source_type="emergency.alert.issued",
        triggered_at=NOW,
    )


def test_a_payload_class_names_its_type_topic_and_aggregate() -> None:
    assert type_of(ItemOpened) == "supervision.item.opened"
    assert topic_of(ItemOpened) == "supervision.events"
    assert contract_of(SupplyLow).aggregate == "supply_id"
    assert topic_of_type("emergency.supply.low") == "emergency.events"


def test_a_class_that_is_no_single_type_payload_is_refused() -> None:
    class Unknown(Payload):
        x: int

    with pytest.raises(ValueError, match="must be the payload of one event type: none"):
        type_of(Unknown)


def test_a_derived_event_takes_type_subject_and_the_id_the_hand_built_one_had() -> None:
    event = derived_event(
        opened(), cause="/units/justice A1", rule="alert-A1", source="/units/justice", time=NOW
    )
    by_hand = new_event(
        type="supervision.item.opened",
        source="/units/justice",
        subject="alert-A1",
        id=derived_id("/units/justice A1", "supervision.item.opened/alert-A1"),
        time=NOW,
        data=opened().model_dump(mode="json"),
    )
    assert event == by_hand.model_copy(
        update={"dataschema": "urn:fazhi:schema:supervision.item.opened:v1"}
    )


def test_without_a_rule_the_id_is_derived_from_the_type_alone() -> None:
    event = derived_event(opened(), cause="c", source="/units/justice")
    assert event.id == derived_id("c", "supervision.item.opened")
    assert event.time.tzinfo is not None


async def test_a_handler_emits_from_the_payload_with_its_event_as_cause() -> None:
    h = Harness(EMERGENCY_WORKER)
    stocked = new_event(
        type="emergency.supply.stocked",
        source="/units/emergency-management",
        subject="S1",
        time=NOW,
        data={**sample("emergency.supply.stocked", "S1"), "quantity": 1},
    )
    assert await h.run(stocked) == [Outcome.APPLIED]
    ((topic, low),) = h.publisher.published
    assert (topic, low.type, low.subject) == ("emergency.events", "emergency.supply.low", "S1")
    assert low.id == derived_id(stocked.key, "emergency.supply.low")
    assert (low.source, low.time) == (stocked.source, stocked.time)


async def test_a_handler_may_name_another_cause_source_and_time() -> None:
    async def handler(ctx: HandlerContext, data: object) -> None:
        ctx.emit(opened(), cause="elsewhere", rule="r", source="/units/justice", time=NOW)

    h = Harness(SUPERVISION_WORKER, handlers={"supervision.training.recorded": handler})
    training = new_event(
        type="supervision.training.recorded",
        source="/units/street-a",
        subject="T1",
        data=sample("supervision.training.recorded", "T1"),
    )
    assert await h.run(training) == [Outcome.APPLIED]
    ((topic, event),) = h.publisher.published
    assert topic == "supervision.events"
    assert (event.source, event.time) == ("/units/justice", NOW)
    assert event.id == derived_id("elsewhere", "supervision.item.opened/r")


def mediation(kind: str, case_id: str, **data: object) -> CloudEvent:
    return new_event(
        type=f"mediation.{kind}",
        source="/units/justice",
        subject=case_id,
        time=NOW,
        data={**sample(f"mediation.{kind}", case_id), **data},
    )


async def test_petition_mediation_derives_the_ids_it_built_by_hand() -> None:
    h = Harness(MEDIATION_WORKER)
    decided = mediation("case.decided", "R1")
    late = mediation("case.filed", "P1", case_type="petition", filed_at="2026-01-05T09:00:00+08:00")
    outcomes = await h.run(
        mediation("case.filed", "R1"), mediation("case.accepted", "R1"), decided, late
    )
    assert outcomes == [Outcome.APPLIED] * 4
    derived = {e.type: (topic, e) for topic, e in h.publisher.published}
    topic, published = derived["mediation.decision.published"]
    assert (topic, published.subject) == ("mediation.events", "R1")
    assert published.id == derived_id(decided.key, "mediation.decision.published")
    assert (published.source, published.time) == (decided.source, decided.time)
    topic, overdue = derived["mediation.case.overdue"]
    assert (topic, overdue.subject, overdue.source) == ("mediation.events", "P1", "/units/justice")
    assert overdue.id == derived_id("P1/acceptance/2026-01-20", "mediation.case.overdue")
