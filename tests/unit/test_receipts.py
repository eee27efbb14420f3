"""Receipts: the worker's ledger entry of an event is its receipt (applied with its aggregate
and version, refused with the domain's reason), and `receipt` reads it beside the api's note of
the record the broker acknowledged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fazhi.bus.publisher import FakePublisher, Placement
from fazhi.bus.records import REFUSAL_HEADER, Outcome
from fazhi.contracts.envelope import CloudEvent
from fazhi.contracts.mediation import CONTRACT as MEDIATION
from fazhi.receipts import articles_in, refusal_of
from fazhi.receipts.rules import State, accepted_doc, accepted_receipts, receipt
from fazhi.rules.statemachine import IllegalTransition
from petition_mediation.worker import WORKER
from tests.support.harness import Harness
from tests.unit.test_mediation_handlers import accepted, filed

TOPIC = MEDIATION.name
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


def receipt_of(h: Harness, event: CloudEvent, posted: dict[str, Any] | None = None) -> Any:
    return receipt(h.ledger(event), posted, topic=TOPIC)


async def test_an_applied_event_s_receipt_names_its_aggregate_and_the_version_after_it(
    h: Harness,
) -> None:
    first, second = filed("R1", "reconsideration"), accepted("R1", procedure="general")
    assert await h.run(first) == [Outcome.APPLIED]
    assert await h.run(second) == [Outcome.APPLIED]
    got = receipt_of(h, second)
    assert got["state"] == State.APPLIED
    assert got["applied"]["aggregate"] == {"collection": "cases", "id": "R1"}
    assert got["applied"]["version"] == 2 == h.doc("cases", "R1")["_v"]
    assert receipt_of(h, first)["applied"]["version"] == 1
    assert got["accepted"]["topic"] == TOPIC


async def test_the_ledger_entry_alone_answers_as_it_does_beside_the_api_s_note(h: Harness) -> None:
    """The api writes no note of a record the worker has answered for (`ReceiptWriter`): the
    receipt is the same without it, its subject and time included."""
    event = filed("R1", "reconsideration")
    (record,) = h.records(event)
    assert await h.replay([record]) == [Outcome.APPLIED]
    note = accepted_doc(
        event, Placement(record.topic, record.partition, record.offset, record.time or AT)
    )
    alone = receipt_of(h, event)
    assert alone == receipt_of(h, event, note)
    assert alone["subject"] == "R1"
    assert alone["accepted"]["at"] == record.time


async def test_events_of_one_aggregate_in_one_batch_share_the_version_that_first_holds_them(
    h: Harness,
) -> None:
    first, second = filed("R1", "reconsideration"), accepted("R1", procedure="general")
    await h.run(first, second)
    assert receipt_of(h, first)["applied"]["version"] == 1
    assert receipt_of(h, second)["applied"]["version"] == 1 == h.doc("cases", "R1")["_v"]


async def test_a_refusal_is_a_problem_with_the_domain_s_reason_article_and_step(h: Harness) -> None:
    refused = accepted("R1", procedure="simplified")
    await h.run(filed("R1", "reconsideration"))
    assert await h.run(refused) == [Outcome.DEAD_LETTERED]
    got = receipt_of(h, refused)
    assert got["state"] == State.REFUSED
    problem = got["problem"]
    assert problem["type"].endswith("/illegal-transition")
    assert problem["status"] == 422
    assert problem["detail"] == "the simplified procedure, and only it, needs an art. 53 ground"
    assert problem["rule"] == "art. 53"
    assert problem["state"] == "acceptance_review"
    assert problem["action"] == "accept"
    assert problem["instance"] == f"/v1/events/{refused.id}"
    assert "applied" not in got


async def test_a_refused_event_posted_again_corrected_with_the_same_id_is_applied(
    h: Harness,
) -> None:
    await h.run(filed("R1", "reconsideration"))
    refused = accepted("R1", procedure="simplified")
    await h.run(refused)
    corrected = refused.model_copy(
        update={"data": {**refused.data, "simplified_ground": "open_government"}}
    )
    (record,) = h.records(corrected)
    posted = accepted_doc(corrected, Placement(record.topic, 0, record.offset, AT))
    pending = receipt_of(h, refused, posted)
    assert pending["state"] == State.ACCEPTED  # on its way again
    assert pending["previous"]["state"] == State.REFUSED
    assert await h.replay([record]) == [Outcome.APPLIED]
    got = receipt_of(h, refused, posted)
    assert got["state"] == State.APPLIED
    assert got["applied"]["version"] == 2
    assert "problem" not in got
    assert h.ledger(refused)["refusal"] is None


async def test_an_id_posted_again_after_it_was_applied_is_a_duplicate(h: Harness) -> None:
    event = filed("R1", "reconsideration")
    await h.run(event)
    assert await h.run(event) == [Outcome.DUPLICATE]
    got = receipt_of(h, event)
    assert got["state"] == State.DUPLICATE
    assert got["duplicate"]["offset"] == 1
    assert got["applied"]["version"] == 1
    assert h.doc("cases", "R1")["_v"] == 1


async def test_a_replayed_batch_keeps_the_version_its_event_gave(h: Harness) -> None:
    event = filed("R1", "reconsideration")
    records = h.records(event)
    await h.replay(records)
    await h.replay(records)  # offsets not committed: the same record again
    assert receipt_of(h, event)["applied"]["version"] == 1


async def test_the_owner_s_dead_letter_carries_the_refusal_a_reaction_s_does_not(
    h: Harness,
) -> None:
    await h.run(filed("R1", "reconsideration"), accepted("R1", procedure="simplified"))
    (letter,) = h.letters
    headers = dict(letter.headers())
    refusal = json.loads(headers[REFUSAL_HEADER])
    assert refusal["rule"] == "art. 53"
    assert refusal["state"] == "acceptance_review"


def test_receipt_is_accepted_before_the_worker_got_to_the_event() -> None:
    event = filed("R9", "reconsideration")
    posted = accepted_doc(event, Placement(TOPIC, 3, 41, AT))
    got = receipt(None, posted, topic=TOPIC)
    assert got is not None
    assert got["state"] == State.ACCEPTED
    assert got["accepted"] == {"topic": TOPIC, "partition": 3, "offset": 41, "at": AT}
    assert receipt(None, None, topic=TOPIC) is None


def test_a_ledger_entry_of_another_topic_is_no_receipt_here() -> None:
    entry = {"_id": "/units/justice x", "id": "x", "topic": "emergency.events", "offset": 1}
    assert receipt(entry, None, topic=TOPIC) is None


def test_an_older_note_of_the_api_does_not_hide_the_worker_s_answer() -> None:
    entry = {
        "id": "x",
        "source": "/units/justice",
        "topic": TOPIC,
        "partition": 2,
        "offset": 10,
        "outcome": "applied",
        "processed_at": AT,
    }
    older = {"id": "x", "topic": TOPIC, "partition": 2, "offset": 7, "time": AT}
    elsewhere_before = {**older, "partition": 5, "offset": 99, "time": AT - timedelta(seconds=1)}
    elsewhere_after = {**elsewhere_before, "time": AT + timedelta(seconds=1)}
    assert receipt(entry, older, topic=TOPIC)["state"] == State.APPLIED  # type: ignore[index]
    assert receipt(entry, elsewhere_before, topic=TOPIC)["state"] == State.APPLIED  # type: ignore[index]
    assert receipt(entry, elsewhere_after, topic=TOPIC)["state"] == State.ACCEPTED  # type: ignore[index]


def test_a_handler_that_keeps_failing_is_a_500_problem_not_the_department_s_fault() -> None:
    refusal = refusal_of(RuntimeError("boom"), handler_failed=True)
    entry = {"id": "x", "topic": TOPIC, "offset": 1, "outcome": "dead_lettered", "refusal": refusal}
    got = receipt(entry, None, topic=TOPIC)
    assert got is not None
    assert got["problem"]["status"] == 500


def test_refusal_keeps_the_move_and_masks_what_the_reason_quotes() -> None:
    exc = IllegalTransition(
        "petition", "filed", "decide", ["accept"], "申请人电话13991234567, see 第三十四条"
    )
    refusal = refusal_of(exc)
    assert "13991234567" not in json.dumps(refusal, ensure_ascii=False)
    assert refusal["allowed"] == ["accept"]
    assert refusal["rule"] == "第三十四条"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the simplified procedure, and only it, needs an art. 53 ground", ["art. 53"]),
        ("a reconsideration decision names its outcome (arts. 63-73)", ["arts. 63-73"]),
        ("依据第三十三条第二款", ["第三十三条第二款"]),
        ("the acceptance review runs until 2026-11-09", []),
    ],
)
def test_articles_are_read_from_the_domain_s_reason(text: str, found: list[str]) -> None:
    assert articles_in(text) == found


async def test_the_202_receipts_say_where_the_broker_put_each_event() -> None:
    publisher = FakePublisher()
    events = [filed("R1", "reconsideration"), filed("R2", "reconsideration")]
    placed = await publisher.publish(TOPIC, events)
    receipts = accepted_receipts(events, placed)
    assert [(r.id, r.state, r.offset) for r in receipts] == [
        (events[0].id, State.ACCEPTED, 0),
        (events[1].id, State.ACCEPTED, 1),
    ]
    assert receipts[0].href == f"/v1/events/{events[0].id}"
