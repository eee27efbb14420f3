"""Supervision's reactions to the other services' events, built from their contracts and fed to
the worker as it consumes them: each cause opens one item (a second report links to it) and the
event that removes the cause closes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.emergency import AlertEscalated
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.contracts.mediation import CaseOverdue, DecisionExecuted, DecisionPublished
from fazhi.contracts.models import Payload
from fazhi.contracts.opengov import (
    DecisionAdopted,
    DecisionEvaluated,
    RequestAnswered,
    RequestOverdue,
)
from supervision.store import ITEMS
from supervision.worker import WORKER
from tests.support.harness import Harness

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)


def built(type_: str, unit: str, subject: str, data: Payload) -> CloudEvent:
    return new_event(
        type=type_,
        source=f"/units/{unit}",
        subject=subject,
        time=T0,
        data=data.model_dump(mode="json", exclude_unset=True),
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


async def settle(h: Harness, *events: CloudEvent) -> None:
    """Apply the events, then whatever they derived, until nothing more is derived."""
    seen = 0
    await h.run(*events)
    while len(h.publisher.published) > seen:
        fresh = [e for _, e in h.publisher.published[seen:]]
        seen = len(h.publisher.published)
        await h.run(*fresh)


def escalated(chain: str, alert_id: str) -> CloudEvent:
    data = AlertEscalated(
        alert_id=alert_id,
        chain_id=chain,
        level="red",
        unit="emergency-management",
        issued_at=T0 - timedelta(minutes=20),
        window_minutes=15,
        escalated_at=T0,
    )
    return built("emergency.alert.escalated", "emergency-management", chain, data)


async def test_an_alert_nobody_acknowledged_opens_one_item_per_chain(h: Harness) -> None:
    first, again = escalated("A1", "A1"), escalated("A1", "A2")
    await settle(h, first)
    await settle(h, again)
    item = h.doc(ITEMS, "unack-A1")
    assert (item["kind"], item["level"], item["unit"]) == (
        "alert_unacknowledged",
        "red",
        "emergency-management",
    )
    assert item["source_event_ids"] == [first.id, again.id]


def case_overdue(clock: str) -> CloudEvent:
    data = CaseOverdue(
        case_id="C1",
        case_type="reconsideration",
        clock=clock,
        unit="justice",
        due_date=T0.date() - timedelta(days=3),
        days_overdue=3,
    )
    return built("mediation.case.overdue", "justice", "C1", data)


@pytest.mark.parametrize(
    ("clock", "item_id", "kind"),
    [
        ("decision", "case-decision-C1", "case_overdue"),
        ("execution", "decision-C1", "decision_execution"),
    ],
)
async def test_a_case_past_its_clock_opens_an_item_whose_ladder_counts_from_the_first_late_day(
    h: Harness, clock: str, item_id: str, kind: str
) -> None:
    await settle(h, case_overdue(clock))
    item = h.doc(ITEMS, item_id)
    assert (item["kind"], item["unit"], item["status"]) == (kind, "justice", "open")
    assert item["ladder_from"] == (T0.date() - timedelta(days=2)).isoformat()


def published(outcome: str) -> CloudEvent:
    data = DecisionPublished(
        case_id="C1",
        case_type="reconsideration",
        category="行政处罚",
        outcome=outcome,
        respondent_unit="market-regulation",
        decided_at=T0,
        title="碑政复决〔2026〕1号",
        text="被申请人作出的行政处罚决定予以撤销。",
    )
    return built("mediation.decision.published", "justice", "C1", data)


async def test_a_binding_decision_is_supervised_until_the_respondent_executes_it(
    h: Harness,
) -> None:
    await settle(h, published("revoked"))
    assert h.doc(ITEMS, "decision-C1")["unit"] == "market-regulation"
    executed = built(
        "mediation.decision.executed",
        "market-regulation",
        "C1",
        DecisionExecuted(case_id="C1", executed_at=T0 + timedelta(days=5), note="已退还罚款"),
    )
    await settle(h, executed)
    item = h.doc(ITEMS, "decision-C1")
    assert (item["status"], item["resolution"]) == ("closed", "复议决定已履行")


@pytest.mark.parametrize("outcome", ["upheld", "dismissed"])
async def test_a_decision_that_binds_nobody_opens_nothing(h: Harness, outcome: str) -> None:
    await settle(h, published(outcome))
    assert h.store.table(ITEMS) == {}


async def test_a_request_past_its_reply_period_is_supervised_until_answered(h: Harness) -> None:
    overdue = RequestOverdue(
        request_id="R1", unit="gov-office", due_date=T0.date() - timedelta(days=1), days_overdue=1
    )
    await settle(h, built("opengov.request.overdue", "gov-office", "R1", overdue))
    assert h.doc(ITEMS, "request-R1")["kind"] == "request_overdue"
    answered = RequestAnswered(request_id="R1", answer_type="disclosed", answered_at=T0)
    await settle(h, built("opengov.request.answered", "gov-office", "R1", answered))
    assert h.doc(ITEMS, "request-R1")["status"] == "closed", h.errors


async def test_a_major_decision_is_supervised_until_its_post_evaluation(h: Harness) -> None:
    adopted = DecisionAdopted(
        decision_id="D1",
        year=2026,
        title="老旧小区改造实施方案",
        unit="housing-construction",
        adopted_at=T0,
    )
    trigger = built("opengov.decision.adopted", "gov-office", "D1", adopted)
    await settle(h, trigger)
    item = h.doc(ITEMS, "major-decision-D1")
    assert (item["kind"], item["unit"], item["source_event_ids"]) == (
        "decision_execution",
        "housing-construction",
        [trigger.id],
    )
    evaluated = DecisionEvaluated(
        decision_id="D1", unit="housing-construction", evaluated_at=T0, summary="执行情况良好"
    )
    outcomes = await h.run(
        built("opengov.decision.evaluated", "housing-construction", "D1", evaluated)
    )
    assert outcomes == [Outcome.APPLIED]
    await settle(h)
    assert h.doc(ITEMS, "major-decision-D1")["status"] == "closed"
