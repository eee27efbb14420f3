"""Every clock a case carries, worked out across the 2026 holidays and make-up working days and
in a year with no official schedule: the worker runs the case's machine on the events and the
case's `clocks` say when each step is due, and why."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.rules.workdays import WorkCalendar
from petition_mediation.cases.document import board_of
from petition_mediation.cases.document import clock_views as views
from petition_mediation.store import CASES
from petition_mediation.worker import WORKER
from tests.support.harness import Harness

APPLICANT = {"name": "张三", "id_number": "610103198503021234", "phone": "13991234567"}


def at(day: str) -> str:
    return datetime.combine(date.fromisoformat(day), time(10), CHINA_TZ).isoformat()


def ev(kind: str, data: dict[str, Any], unit: str = "justice") -> CloudEvent:
    return new_event(
        type=f"mediation.{kind}",
        source=f"/units/{unit}",
        subject="C1",
        data={"case_id": "C1", **data},
    )


def filed(case_type: str, day: str) -> CloudEvent:
    return ev(
        "case.filed",
        {
            "case_type": case_type,
            "category": "行政处罚",
            "applicant": APPLICANT,
            "respondent_unit": "market-regulation",
            "summary": "不服行政处罚",
            "filed_at": at(day),
        },
    )


def accepted(day: str, procedure: str = "general", **extra: Any) -> CloudEvent:
    return ev("case.accepted", {"accepted_at": at(day), "procedure": procedure, **extra})


def simplified(day: str) -> CloudEvent:
    return accepted(day, "simplified", simplified_ground="open_government")


def decided(day: str, **extra: Any) -> CloudEvent:
    return ev(
        "case.decided",
        {"decision": "决定", "decided_at": at(day), "document_text": "决定书", **extra},
    )


def extended(day: str) -> CloudEvent:
    return ev(
        "case.extended",
        {"extended_at": at(day), "approved_by": "区司法局局长", "reason": "案情复杂"},
    )


def review_requested(day: str, received: str) -> CloudEvent:
    return ev(
        "case.review_requested",
        {"requested_at": at(day), "reply_received_at": at(received), "to_unit": "区人民政府"},
    )


def recommendation(day: str) -> CloudEvent:
    return ev(
        "case.recommendation_received",
        {
            "recommendation_id": "JY-1",
            "kind": "judicial",
            "text": "建议规范执法程序",
            "received_at": at(day),
        },
    )


CLOCKS = [
    # (case, events, clock, due date, what the explanation must show)
    (
        "reconsideration acceptance review counts the make-up Saturday 2026-10-10",
        [filed("reconsideration", "2026-09-30")],
        "acceptance",
        "2026-10-13",
        ["2026-10-10 Sat: counted (3/5) — make-up working day (调休) for 国庆节 National Day"],
    ),
    (
        "reconsideration acceptance review skips the Spring Festival, counts 2026-02-14",
        [filed("reconsideration", "2026-02-13")],
        "acceptance",
        "2026-02-27",
        ["2026-02-14 Sat: counted (1/5)", "2026-02-23 Mon: not counted — holiday: 春节"],
    ),
    (
        "petition acceptance ending on National Day moves to the next working day",
        [filed("petition", "2026-09-16")],
        "acceptance",
        "2026-10-08",
        ["顺延", "信访工作条例（2022）第二十三条"],
    ),
    (
        "petition handling ending in the Labour Day holiday moves to 2026-05-06",
        [filed("petition", "2026-03-01"), accepted("2026-03-05")],
        "handling",
        "2026-05-06",
        ["petition.handling", "moved to next working day"],
    ),
    (
        "petition handling extended by 30 days",
        [filed("petition", "2026-03-01"), accepted("2026-03-05"), extended("2026-04-20")],
        "handling",
        "2026-06-03",
        ["延长 Extended: period is now 90 days", "2026-04-20 Mon: extended (延长) by 30"],
    ),
    (
        "petition review ending on the Dragon Boat Festival moves to 2026-06-22",
        [
            filed("petition", "2026-03-01"),
            accepted("2026-03-05"),
            decided("2026-05-15"),
            review_requested("2026-05-20", "2026-05-18"),
        ],
        "review",
        "2026-06-22",
        ["petition.review", "holiday: 端午 Dragon Boat Festival"],
    ),
    (
        "reconsideration decision, general procedure: 60 days ending in National Day",
        [filed("reconsideration", "2026-08-03"), accepted("2026-08-05")],
        "decision",
        "2026-10-08",
        ["reconsideration.decision.general", "国庆节"],
    ),
    (
        "reconsideration decision, general procedure, extended by 30 days",
        [filed("reconsideration", "2026-08-03"), accepted("2026-08-05"), extended("2026-09-01")],
        "decision",
        "2026-11-03",
        ["延长 Extended: period is now 90 days"],
    ),
    (
        "reconsideration decision, simplified procedure: 30 days",
        [filed("reconsideration", "2026-09-03"), simplified("2026-09-05")],
        "decision",
        "2026-10-08",
        ["reconsideration.decision.simplified", "第六十二条第二款"],
    ),
    (
        "reconsideration decision carried out within 60 days",
        [
            filed("reconsideration", "2026-08-03"),
            accepted("2026-08-05"),
            decided("2026-10-10", outcome="revoked"),
        ],
        "execution",
        "2026-12-09",
        ["reconsideration.execution", "第七十七条"],
    ),
    (
        "litigation defence due 15 days after service, past the Spring Festival",
        [filed("litigation", "2026-02-01")],
        "defence",
        "2026-02-24",
        ["litigation.defence", "第六十七条第一款", "2026-02-01 Sun, not counted"],
    ),
    (
        "litigation recommendation reply ending on the Mid-autumn Festival",
        [filed("litigation", "2026-07-01"), recommendation("2026-07-27")],
        "reply",
        "2026-09-28",
        ["litigation.reply", "中秋"],
    ),
]


@pytest.mark.parametrize(
    ("events", "name", "due", "shown"),
    [pytest.param(*row[1:], id=row[0]) for row in CLOCKS],
)
async def test_each_clock_is_due_on_the_statutory_day_and_says_why(
    events: list[CloudEvent], name: str, due: str, shown: list[str]
) -> None:
    h = Harness(WORKER)
    assert await h.run(*events) == [Outcome.APPLIED] * len(events), h.errors
    clocks = [c for c in h.doc(CASES, "C1")["clocks"] if c["name"] == name]
    assert len(clocks) == 1
    clock = clocks[0]
    assert clock["due_date"] == due
    assert clock["provisional"] is False
    assert f"届满 Due: {due}" in clock["explanation"]
    for text in shown:
        assert text in clock["explanation"]


async def test_a_clock_in_a_year_without_a_schedule_is_provisional_until_one_is_loaded() -> None:
    h = Harness(WORKER)
    await h.run(filed("reconsideration", "2027-09-30"))
    doc = h.doc(CASES, "C1")
    (clock,) = doc["clocks"]
    # Weekends only: Fri 1 October is counted like any Friday.
    assert (clock["due_date"], clock["provisional"]) == ("2027-10-07", True)
    assert "暂定 Provisional: no official holiday schedule for 2027" in clock["explanation"]
    assert doc["provisional_years"] == [2027]
    assert doc["due_days"] == ["2027-10-07"]
    official = WorkCalendar()
    official.load_schedule(
        2027,
        [date(2027, 10, d) for d in range(1, 8)],
        [date(2027, 9, 26), date(2027, 10, 9)],
    )
    (loaded,) = views(doc, date(2027, 9, 30), official)
    assert (loaded["due_date"], loaded["provisional"]) == ("2027-10-13", False)
    assert "2027-10-09 Sat: counted (2/5) — make-up working day (调休)" in loaded["explanation"]


async def test_a_stopped_clock_stays_on_the_board_as_met() -> None:
    h = Harness(WORKER)
    await h.run(filed("reconsideration", "2026-09-30"), accepted("2026-10-09"))
    doc = h.doc(CASES, "C1")
    by_name = {c["name"]: c for c in doc["clocks"]}
    assert by_name["acceptance"]["status"] == "met"
    assert by_name["acceptance"]["met_on"] == "2026-10-09"
    assert "in time" in by_name["acceptance"]["explanation"]
    assert by_name["decision"]["status"] in ("running", "overdue")
    assert doc["due_days"] == [by_name["decision"]["due_date"]]
    assert [t.slot for t in board_of(doc)] == ["acceptance", "decision"]
