"""The petition-mediation worker runs each case type on its own machine: what the machine
allows is projected, what it refuses goes to the dead-letter topic with its reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.bus.timers import DayLook
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from petition_mediation.cases.timers import deemed_acceptance, unreviewed_closing
from petition_mediation.config import Settings
from petition_mediation.store import (
    CASE_HISTORY,
    CASES,
    CLOSE_UNREVIEWED_DAY,
    DEEM_ACCEPTED_DAY,
    PRIVATE,
)
from petition_mediation.worker import WORKER
from tests.support.harness import Harness

FILED = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA_TZ)  # a Monday
UNIT = "justice"


def _event(kind: str, case_id: str, data: dict[str, Any]) -> CloudEvent:
    return new_event(
        type=f"mediation.case.{kind}",
        source=f"/units/{UNIT}",
        subject=case_id,
        time=FILED,
        data={"case_id": case_id, **data},
    )


def filed(case_id: str, case_type: str) -> CloudEvent:
    return _event(
        "filed",
        case_id,
        {
            "case_type": case_type,
            "category": "行政处罚",
            "applicant": {
                "name": "张三",
                "id_number": "610103198503021234",
                "phone": "13991234567",
            },
            "respondent_unit": "market-regulation",
            "summary": "申请人张三不服区市场监管局行政处罚决定，电话13991234567",
            "filed_at": FILED.isoformat(),
        },
    )


def accepted(case_id: str, days: int = 2, **extra: Any) -> CloudEvent:
    return _event(
        "accepted", case_id, {"accepted_at": (FILED + timedelta(days=days)).isoformat(), **extra}
    )


def decided(case_id: str, days: int = 20, **extra: Any) -> CloudEvent:
    return _event(
        "decided",
        case_id,
        {
            "decision": "撤销原处罚决定",
            "decided_at": (FILED + timedelta(days=days)).isoformat(),
            "document_text": "申请人张三，身份证号610103198503021234。本机关决定撤销原处罚决定。",
            **extra,
        },
    )


@pytest.fixture
def h() -> Harness:
    return Harness(WORKER)


@pytest.mark.parametrize(
    ("case_type", "state", "clock"),
    [
        ("petition", "filed", "petition.acceptance"),
        ("mediation", "filed", None),
        ("adjudication", "filed", None),
        ("reconsideration", "acceptance_review", "reconsideration.acceptance"),
        ("litigation", "served", "litigation.defence"),
    ],
)
async def test_each_case_type_starts_in_its_own_machine(
    h: Harness, case_type: str, state: str, clock: str | None
) -> None:
    assert await h.run(filed("C1", case_type)) == [Outcome.APPLIED]
    case = h.doc(CASES, "C1")
    assert case["status"] == state
    assert (case["clock"] or {}).get("name") == clock
    assert "张三" not in case["summary"]
    assert "13991234567" not in case["summary"]
    assert case[PRIVATE]["applicant"]["name"] == "张三"


async def test_a_reconsideration_runs_from_acceptance_review_to_decision(h: Harness) -> None:
    outcomes = await h.run(
        filed("C1", "reconsideration"), accepted("C1"), decided("C1", outcome="revoked")
    )
    assert outcomes == [Outcome.APPLIED] * 3
    case = h.doc(CASES, "C1")
    assert case["status"] == "decided"
    assert case["outcome"] == "revoked"
    assert "610103198503021234" not in case["document_text"]
    steps = [row["action"] for row in h.rows(CASE_HISTORY, case_id="C1")]
    assert steps == ["file", "accept", "decide"]


async def test_the_reconsideration_decision_clock_follows_the_acceptance(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1", days=1))
    clock = h.doc(CASES, "C1")["clock"]
    assert clock["name"] == "reconsideration.decision.general"
    assert clock["due_date"] == "2027-01-04"  # 60 days from 2026-11-03 is a Saturday


async def test_a_reconsideration_decided_before_it_was_accepted_is_refused(h: Harness) -> None:
    outcomes = await h.run(filed("C1", "reconsideration"), decided("C1", outcome="upheld"))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "reconsideration case in state 'acceptance_review' cannot decide" in h.errors[0]
    assert h.doc(CASES, "C1")["status"] == "acceptance_review"


async def test_an_acceptance_dated_before_the_filing_is_refused(h: Harness) -> None:
    outcomes = await h.run(filed("C1", "reconsideration"), accepted("C1", days=-1))
    assert outcomes == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "before" in h.errors[0]


async def test_a_reconsideration_decision_must_name_its_outcome(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1"))
    assert await h.run(decided("C1")) == [Outcome.DEAD_LETTERED]
    assert "names its outcome" in h.errors[0]


async def test_only_a_reconsideration_takes_the_simplified_procedure(h: Harness) -> None:
    await h.run(filed("P1", "petition"), filed("R1", "reconsideration"))
    outcomes = await h.run(
        accepted("P1", procedure="simplified"),
        accepted("R1", procedure="simplified", simplified_ground="open_government"),
    )
    assert outcomes == [Outcome.DEAD_LETTERED, Outcome.APPLIED]
    assert "only reconsideration has a simplified procedure" in h.errors[0]
    assert h.doc(CASES, "R1")["clock"]["name"] == "reconsideration.decision.simplified"


async def test_a_litigation_case_has_no_acceptance(h: Harness) -> None:
    await h.run(filed("L1", "litigation"))
    assert await h.run(accepted("L1")) == [Outcome.DEAD_LETTERED]
    assert "litigation case in state 'served' cannot accept" in h.errors[0]


@pytest.mark.parametrize(
    ("case_type", "final"),
    [
        ("petition", "handled"),
        ("mediation", "agreed"),
        ("adjudication", "decided"),
    ],
)
async def test_each_type_decides_in_its_own_terms(h: Harness, case_type: str, final: str) -> None:
    outcomes = await h.run(filed("C1", case_type), accepted("C1"), decided("C1"))
    assert outcomes == [Outcome.APPLIED] * 3, h.errors
    assert h.doc(CASES, "C1")["status"] == final


async def test_a_litigation_judgment_follows_the_defence_stage(h: Harness) -> None:
    assert await h.run(filed("L1", "litigation"), decided("L1")) == [
        Outcome.APPLIED,
        Outcome.DEAD_LETTERED,
    ]
    assert "litigation case in state 'served' cannot record_judgment" in h.errors[0]


async def test_a_case_filed_twice_keeps_its_first_filing(h: Harness) -> None:
    await h.run(filed("C1", "petition"))
    assert await h.run(filed("C1", "reconsideration")) == [Outcome.DEAD_LETTERED]
    assert h.doc(CASES, "C1")["case_type"] == "petition"


async def test_events_about_an_unknown_case_are_refused(h: Harness) -> None:
    assert await h.run(accepted("NOPE")) == [Outcome.DEAD_LETTERED]
    assert "does not exist" in h.errors[0]


def executed(case_id: str, unit: str = "market-regulation") -> CloudEvent:
    return new_event(
        type="mediation.decision.executed",
        source=f"/units/{unit}",
        subject=case_id,
        time=FILED,
        data={
            "case_id": case_id,
            "executed_at": (FILED + timedelta(days=40)).isoformat(),
            "note": "已退还罚款",
        },
    )


async def test_a_reconsideration_decision_is_published_without_the_applicants_data(
    h: Harness,
) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1"), decided("C1", outcome="revoked"))
    published = [e for _, e in h.publisher.published if e.type == "mediation.decision.published"]
    assert len(published) == 1
    data = published[0].data
    assert data["outcome"] == "revoked"
    assert data["respondent_unit"] == "market-regulation"
    assert data["case_type"] == "reconsideration"
    body = str(data)
    for secret in ("张三", "610103198503021234", "13991234567"):
        assert secret not in body
    assert "本机关决定撤销原处罚决定" in data["text"]


async def test_a_replayed_decision_publishes_the_same_event(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1"))
    records = h.records(decided("C1", outcome="revoked"))
    await h.replay(records)
    await h.replay(records)
    ids = {e.id for _, e in h.publisher.published if e.type == "mediation.decision.published"}
    assert len(ids) == 1


async def test_only_reconsideration_decisions_are_published(h: Harness) -> None:
    await h.run(filed("C1", "adjudication"), accepted("C1"), decided("C1", outcome="revoked"))
    assert not [e for _, e in h.publisher.published if e.type == "mediation.decision.published"]


async def test_the_respondent_unit_reports_the_decision_carried_out(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1"), decided("C1", outcome="revoked"))
    assert await h.run(executed("C1", unit="court")) == [Outcome.DEAD_LETTERED]
    assert "only the respondent unit" in h.errors[0]
    assert await h.run(executed("C1")) == [Outcome.APPLIED]
    assert h.doc(CASES, "C1")["status"] == "executed"
    assert [row["action"] for row in h.rows(CASE_HISTORY, case_id="C1")][-1] == "record_execution"


async def test_an_upheld_decision_leaves_nothing_to_carry_out(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1"), decided("C1", outcome="upheld"))
    assert await h.run(executed("C1")) == [Outcome.DEAD_LETTERED]
    assert "leaves the respondent nothing to do" in h.errors[0]


async def test_a_case_posted_after_its_clock_passed_is_reported_overdue_once(
    h: Harness,
) -> None:
    late = filed("C1", "petition")
    late = late.model_copy(
        update={
            "data": {**late.data, "filed_at": datetime(2026, 1, 5, 9, tzinfo=CHINA_TZ).isoformat()}
        }
    )
    await h.run(late)
    overdue = [e for _, e in h.publisher.published if e.type == "mediation.case.overdue"]
    assert [e.data["clock"] for e in overdue] == ["acceptance"]
    assert overdue[0].data["due_date"] == "2026-01-20"
    assert overdue[0].data["unit"] == "justice"
    assert h.doc(CASES, "C1")["overdue"] is True
    # Another step on the case reports the same clock with the same id.
    await h.run(accepted("C1", days=-300))
    ids = {e.id for _, e in h.publisher.published if e.type == "mediation.case.overdue"}
    handling = [e for _, e in h.publisher.published if e.data.get("clock") == "handling"]
    assert len(ids) == 1 + len({e.id for e in handling})


async def test_step_texts_are_redacted_before_the_timeline_keeps_them(h: Harness) -> None:
    await h.run(filed("C1", "petition"))
    not_accepted = _event(
        "not_accepted",
        "C1",
        {"decided_at": (FILED + timedelta(days=1)).isoformat(), "reason": "张三所诉不属信访事项"},
    )
    assert await h.run(not_accepted) == [Outcome.APPLIED]
    (row,) = [r for r in h.rows(CASE_HISTORY, case_id="C1") if r["action"] == "not_accept"]
    assert "张三" not in row["note"]
    assert h.doc(CASES, "C1")["status"] == "not_accepted"


async def test_an_overdue_report_for_a_clock_met_since_leaves_the_case_not_overdue(
    h: Harness,
) -> None:
    await h.run(filed("C1", "reconsideration"), accepted("C1", days=1))
    report = new_event(
        type="mediation.case.overdue",
        source=f"/units/{UNIT}",
        subject="C1",
        data={
            "case_id": "C1",
            "case_type": "reconsideration",
            "clock": "acceptance",
            "unit": UNIT,
            "due_date": "2026-11-09",
            "days_overdue": 1,
        },
    )
    assert await h.run(report) == [Outcome.APPLIED]
    rows = h.rows(CASE_HISTORY, case_id="C1")
    assert rows[-1]["action"] == "overdue"
    assert rows[-1]["note"] == "acceptance due 2026-11-09, justice to act"
    accepted_case = h.doc(CASES, "C1")
    decision = next(c for c in accepted_case["clocks"] if c["name"] == "decision")
    assert accepted_case["overdue"] is (decision["status"] == "overdue")


def looked(day: date) -> DayLook[Settings]:
    """A timer's look at `day`, that morning."""
    return DayLook(Settings(), day, datetime.combine(day, time(9), CHINA_TZ))


async def test_a_reconsideration_whose_review_ended_undecided_is_deemed_accepted(
    h: Harness,
) -> None:
    await h.run(filed("C1", "reconsideration"))  # the review runs until Monday 2026-11-09
    deemed = deemed_acceptance(h.doc(CASES, "C1"), looked(date(2026, 11, 10)))
    assert deemed is not None
    assert await h.run(deemed) == [Outcome.APPLIED]
    case = h.doc(CASES, "C1")
    assert (case["status"], case["procedure"]) == ("accepted", "general")
    # 行政复议法 art. 30(3): accepted as of the review's last day, the decision clock from it.
    assert case["clock"]["name"] == "reconsideration.decision.general"
    assert case["clock"]["due_date"] == "2027-01-08"  # 60 days from 2026-11-09
    clocks = {c["name"]: c for c in case["clocks"]}
    assert (clocks["acceptance"]["status"], clocks["acceptance"]["met_on"]) == (
        "met",
        "2026-11-10",
    )
    assert clocks["decision"]["started_on"] == "2026-11-09"
    assert DEEM_ACCEPTED_DAY not in case
    row = h.rows(CASE_HISTORY, case_id="C1")[-1]
    assert (row["action"], row["status"], row["note"]) == (
        "deem_accepted",
        "accepted",
        "deemed accepted on 2026-11-09",
    )
    assert await h.run(deemed) == [Outcome.DUPLICATE]


async def test_a_reconsideration_accepted_in_time_is_not_deemed_accepted(h: Harness) -> None:
    await h.run(filed("C1", "reconsideration"))
    deemed = deemed_acceptance(h.doc(CASES, "C1"), looked(date(2026, 11, 10)))
    assert deemed is not None
    await h.run(accepted("C1", days=1))
    assert await h.run(deemed) == [Outcome.DEAD_LETTERED]
    assert "reconsideration case in state 'accepted' cannot deem_accepted" in h.errors[0]
    assert h.doc(CASES, "C1")["clock"]["due_date"] == "2027-01-04"


async def test_a_petition_whose_review_window_ended_unused_is_closed(h: Harness) -> None:
    await h.run(filed("P1", "petition"), accepted("P1"), decided("P1"))  # opinion 2026-11-22
    assert (
        h.doc(CASES, "P1")[CLOSE_UNREVIEWED_DAY]
        == max(date(2026, 12, 23), datetime.now(CHINA_TZ).date()).isoformat()
    )
    assert unreviewed_closing(h.doc(CASES, "P1"), looked(date(2026, 12, 22))) is None
    closing = unreviewed_closing(h.doc(CASES, "P1"), looked(date(2026, 12, 23)))
    assert closing is not None
    assert closing.data == {
        "case_id": "P1",
        "not_requested": "review",
        "window_ended_on": "2026-12-22",
    }
    assert await h.run(closing) == [Outcome.APPLIED]
    case = h.doc(CASES, "P1")
    assert (case["status"], case["final"], case["clock"]) == ("closed", True, None)
    assert CLOSE_UNREVIEWED_DAY not in case
    row = h.rows(CASE_HISTORY, case_id="P1")[-1]
    assert (row["action"], row["on"], row["note"]) == (
        "close_unreviewed",
        "2026-12-23",
        "期满未请求复查",
    )


async def test_a_petition_whose_review_was_asked_is_not_closed_unreviewed(h: Harness) -> None:
    await h.run(filed("P1", "petition"), accepted("P1"), decided("P1"))
    closing = unreviewed_closing(h.doc(CASES, "P1"), looked(date(2026, 12, 23)))
    assert closing is not None
    review = _event(
        "review_requested",
        "P1",
        {
            "requested_at": (FILED + timedelta(days=25)).isoformat(),
            "reply_received_at": (FILED + timedelta(days=21)).isoformat(),
            "to_unit": "区政府",
        },
    )
    assert await h.run(review, closing) == [Outcome.APPLIED, Outcome.DEAD_LETTERED]
    assert "petition case in state 'review_requested' cannot close_unreviewed" in h.errors[0]
    assert CLOSE_UNREVIEWED_DAY not in h.doc(CASES, "P1")
