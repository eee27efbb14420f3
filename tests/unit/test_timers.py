"""Worker timers on an in-memory database: a day scan looks at each day since its watermark with
one equality per day, reaches back its first-look window the first time, moves its watermark
only once what it found is published, and publishes an event once a day; the services' scans
derive the ids their hand-written loops derived."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

import pytest

from emergency.config import Settings as EmergencySettings
from emergency.incidents.timers import PURGE
from emergency.registries.timers import REVISIONS
from emergency.store import CLOSED_DAY, INCIDENTS, PLANS, TIMERS
from fazhi.bus.publisher import FakePublisher, PublishError
from fazhi.bus.records import Outcome
from fazhi.bus.timers import DayLook, DayScan, TimerContext
from fazhi.contracts import derived_event
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from fazhi.contracts.supervision import TaskOverdue
from fazhi.settings import ServiceSettings
from open_government.config import Settings as OpenGovernmentSettings
from open_government.requests.timer import DUE_SOON as REQUEST_DUE_SOON
from open_government.requests.timer import OVERDUE
from petition_mediation.cases.timers import (
    DEEMED_ACCEPTANCE,
    DUE_SOON,
    UNREVIEWED_CLOSING,
    mark_lapse_days,
)
from petition_mediation.cases.timers import OVERDUE as CASE_OVERDUE
from petition_mediation.config import Settings as MediationSettings
from petition_mediation.store import CASES, CLOSE_UNREVIEWED_DAY, DEEM_ACCEPTED_DAY, MARKS
from petition_mediation.worker import WORKER as MEDIATION_WORKER
from supervision.config import Settings as SupervisionSettings
from supervision.domain import DEFAULT_LADDER
from supervision.watch import ITEM_WATCH, TASK_WATCH, item_events, task_events
from tests.support.harness import Harness
from tests.support.memorydb import MemoryDatabase

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)
DUE = datetime(2026, 11, 1, 23, 59, 59, tzinfo=CHINA_TZ)


class LateSettings(ServiceSettings):
    days_late: int = 2


def overdue(doc: dict[str, Any], look: DayLook[LateSettings]) -> CloudEvent:
    data = TaskOverdue(task_id=doc["_id"], unit="justice", due_at=DUE, days_overdue=1)
    return derived_event(data, cause=doc["_id"], rule=look.day.isoformat(), source="/units/x")


SCAN = DayScan(
    "test-scan",
    lambda s: 1.0,
    "tasks",
    "due_day",
    overdue,
    "marks",
    first_look_days=3,
    last_day=lambda s, today: today - timedelta(days=s.days_late),
    max_back_days=10,
)


def timer(
    db: MemoryDatabase, now: datetime = NOW, settings: Any = None, **kw: Any
) -> TimerContext[Any]:
    return TimerContext(
        settings or LateSettings(), cast(Any, db), FakePublisher(**kw), clock=lambda: now
    )


def day_queries(db: MemoryDatabase, collection: str, field: str) -> list[str]:
    return [q[field] for c, q in db.queries if c == collection and field in q]


def published(t: TimerContext[Any]) -> list[tuple[str, CloudEvent]]:
    return cast(FakePublisher, t.publisher).published


async def tasks(db: MemoryDatabase, *days: str) -> None:
    await db["tasks"].insert_many({"_id": f"T-{d}", "due_day": d} for d in days)


async def test_a_day_scan_looks_at_each_day_since_its_watermark_by_equality() -> None:
    db = MemoryDatabase()
    await tasks(db, "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-28", "2026-11-30")
    await db["marks"].replace_one({"_id": "test-scan"}, {"through": "2026-11-25"}, upsert=True)
    t = timer(db)
    assert await SCAN.run(t) == 3
    # from the last day looked at (again: it may have filled since) to today - 2 days, by day
    assert day_queries(db, "tasks", "due_day") == [
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
        "2026-11-28",
    ]
    assert [(topic, e.subject) for topic, e in published(t)] == [
        ("supervision.events", "T-2026-11-25"),
        ("supervision.events", "T-2026-11-27"),
        ("supervision.events", "T-2026-11-28"),
    ]
    assert db["marks"].docs["test-scan"]["through"] == "2026-11-28"


async def test_the_first_look_reaches_its_window_back_and_a_look_no_further_than_its_bound() -> (
    None
):
    db = MemoryDatabase()
    await SCAN.run(timer(db))
    assert day_queries(db, "tasks", "due_day") == [
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
        "2026-11-28",
    ]
    db = MemoryDatabase()
    await db["marks"].replace_one({"_id": "test-scan"}, {"through": "2025-01-01"}, upsert=True)
    await SCAN.run(timer(db))
    assert day_queries(db, "tasks", "due_day")[0] == "2026-11-18"  # 10 days before the last


async def test_a_look_moves_nothing_and_a_failed_publish_keeps_the_watermark() -> None:
    db = MemoryDatabase()
    await tasks(db, "2026-11-28")
    t = timer(db, fail=True)
    assert [e.subject for e in await SCAN.look(t)] == ["T-2026-11-28"]
    assert "test-scan" not in db["marks"].docs
    with pytest.raises(PublishError):
        await SCAN.run(t)
    assert "test-scan" not in db["marks"].docs


async def test_an_event_is_published_once_a_day_however_often_it_is_found() -> None:
    db = MemoryDatabase()
    await tasks(db, "2026-11-28")
    today = timer(db)
    assert await SCAN.run(today) == 1
    assert await SCAN.run(today) == 0
    today.clock = lambda: NOW + timedelta(days=1)  # the 28th is looked at again, a new day
    await db["marks"].replace_one({"_id": "test-scan"}, {"through": "2026-11-28"}, upsert=True)
    assert await SCAN.run(today) == 1
    assert published(today)[0][1].id == published(today)[1][1].id


async def test_the_purge_scan_looks_at_closing_days_whose_retention_ended_with_the_old_ids() -> (
    None
):
    db = MemoryDatabase()
    closed = (NOW.date() - timedelta(days=180)).isoformat()
    await db[INCIDENTS].insert_many(
        [{"_id": "I1", CLOSED_DAY: closed, "owner_units": ["street-a"], "private": {}}]
    )
    t = timer(db, settings=EmergencySettings())
    await PURGE.run(t)
    days = day_queries(db, INCIDENTS, CLOSED_DAY)
    assert (days[0], days[-1], len(days)) == (
        (NOW.date() - timedelta(days=210)).isoformat(),
        closed,
        31,
    )
    ((topic, event),) = published(t)
    assert (topic, event.type, event.subject) == (
        "emergency.events",
        "emergency.incident.personal_data_purged",
        "I1",
    )
    assert event.id == derived_id(f"I1\n{closed}", "emergency.incident.personal_data_purged")
    assert db[TIMERS].docs["personal-data-purge"]["through"] == closed


async def test_the_revision_scan_finds_a_reminder_on_its_day_with_the_old_id() -> None:
    db = MemoryDatabase()
    await db[PLANS].insert_many(
        [
            {
                "_id": "P1",
                "owner_unit": "emergency-management",
                "title": "防汛预案",
                "revision_due_on": "2026-12-28",
                "reminder_days": ["2026-11-28", "2026-12-28"],
            }
        ]
    )
    t = timer(db, settings=EmergencySettings())
    await REVISIONS.run(t)
    assert day_queries(db, PLANS, "reminder_days") == [
        (NOW.date() - timedelta(days=n)).isoformat() for n in range(7, -1, -1)
    ]
    ((_, event),) = published(t)
    assert event.data["days_left"] == 30
    assert event.id == derived_id("P1\n2026-12-28\n30", "emergency.plan.revision_due")


async def test_the_overdue_scan_looks_at_sixty_days_up_to_yesterday_then_from_its_watermark() -> (
    None
):
    db = MemoryDatabase()
    t = timer(db, settings=OpenGovernmentSettings())
    await OVERDUE.run(t)
    days = day_queries(db, "requests", "due_date")
    assert (days[0], days[-1], len(days)) == ("2026-10-01", "2026-11-29", 60)
    db.queries.clear()
    t.clock = lambda: NOW + timedelta(days=2)
    await OVERDUE.run(t)
    assert day_queries(db, "requests", "due_date") == ["2026-11-29", "2026-11-30", "2026-12-01"]


async def test_the_deadline_watch_starts_today_and_its_settings_are_typed() -> None:
    db = MemoryDatabase()
    t = timer(db, settings=SupervisionSettings())
    await TASK_WATCH.run(t)
    await ITEM_WATCH.run(t)
    assert day_queries(db, "tasks", "watch_day") == ["2026-11-30"]
    assert day_queries(db, "items", "escalate_day") == ["2026-11-30"]
    assert TASK_WATCH.interval_s(SupervisionSettings(watch_interval_s=5)) == 5


def test_the_revision_scan_first_looks_a_week_back() -> None:
    window = REVISIONS.window(None, EmergencySettings(), date(2026, 11, 30))
    assert window == (date(2026, 11, 23), date(2026, 11, 30))


def test_the_deadline_watch_derives_the_ids_its_loop_derived() -> None:
    task = {"_id": "M1-D1", "kind": "milestone", "unit": "justice", "due_at": DUE}
    (late,) = task_events(task, NOW.date(), NOW)
    assert late.id == derived_id("M1-D1", "supervision.task.overdue/29")
    (soon,) = task_events(task, date(2026, 10, 18), NOW)
    assert soon.id == derived_id("M1-D1", "supervision.task.due_soon/2026-11-01/14")
    item = {
        "_id": "task-M1-D1",
        "status": "open",
        "kind": "task_overdue",
        "unit": "justice",
        "level": "blue",
        "ladder_from": "2026-10-20",
    }
    steps = item_events(item, NOW.date(), NOW, DEFAULT_LADDER)
    assert [e.id for e in steps] == [
        derived_id("task-M1-D1", "supervision.item.escalated/interview")
    ]


def case_event(kind: str, case_id: str, **data: Any) -> CloudEvent:
    """A step posted about a case, its dates given as days (at 10:00 China time)."""
    for name, value in data.items():
        if isinstance(value, date):
            data[name] = datetime.combine(value, time(10), CHINA_TZ).isoformat()
    return new_event(
        type=f"mediation.case.{kind}",
        source="/units/justice",
        subject=case_id,
        data={"case_id": case_id, **data},
    )


def filing(case_id: str, case_type: str, filed_on: date) -> CloudEvent:
    return case_event(
        "filed",
        case_id,
        case_type=case_type,
        category="行政处罚",
        applicant={"name": "张三"},
        respondent_unit="market-regulation",
        summary="不服处罚",
        filed_at=filed_on,
    )


def opinion(case_id: str, on: date) -> CloudEvent:
    return case_event("decided", case_id, decision="意见", document_text="意见书", decided_at=on)


def handled(case_id: str, on: date) -> list[CloudEvent]:
    """A petition filed, accepted and answered with a handling opinion on `on`."""
    return [
        filing(case_id, "petition", date(2026, 9, 1)),
        case_event("accepted", case_id, accepted_at=date(2026, 9, 2)),
        opinion(case_id, on),
    ]


async def case_docs(
    db: MemoryDatabase, monkeypatch: pytest.MonkeyPatch, on: date, *events: CloudEvent
) -> Harness:
    """The cases as the mediation worker projects `events` on day `on`, copied into `db`."""
    monkeypatch.setattr("petition_mediation.cases.flows.today", lambda: on)
    h = Harness(MEDIATION_WORKER)
    assert await h.run(*events) == [Outcome.APPLIED] * len(events), h.errors
    await db[CASES].insert_many(h.store.table(CASES).values())
    return h


async def test_the_case_overdue_scan_looks_a_week_back_to_yesterday_with_the_old_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    await case_docs(
        db,
        monkeypatch,
        date(2026, 11, 10),
        filing("P1", "petition", date(2026, 11, 10)),
        filing("P2", "petition", date(2026, 11, 1)),
    )
    t = timer(db, settings=MediationSettings())
    await CASE_OVERDUE.run(t)
    days = day_queries(db, CASES, "due_days")
    assert (days[0], days[-1], len(days)) == ("2026-11-23", "2026-11-29", 7)
    ((topic, event),) = published(t)
    assert (topic, event.type, event.subject, event.source) == (
        "mediation.events",
        "mediation.case.overdue",
        "P1",
        "/units/justice",
    )
    assert (event.data["due_date"], event.data["days_overdue"]) == ("2026-11-25", 5)
    assert event.id == derived_id("P1/acceptance/2026-11-25", "mediation.case.overdue")
    assert db[MARKS].docs["overdue"]["through"] == "2026-11-29"


async def test_the_due_soon_scan_reminds_each_clock_due_within_three_days_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    await case_docs(
        db,
        monkeypatch,
        date(2026, 11, 20),  # projected before any of them came within three days of its due date
        filing("P1", "petition", date(2026, 11, 17)),  # acceptance due Wednesday 2026-12-02
        filing("P2", "petition", date(2026, 11, 20)),  # due 2026-12-07, not yet
        filing("P3", "petition", date(2026, 11, 10)),  # due 2026-11-25, overdue instead
    )
    t = timer(db, settings=MediationSettings())
    await DUE_SOON.run(t)
    assert day_queries(db, CASES, "due_days") == [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]
    ((topic, event),) = published(t)
    assert (topic, event.type, event.subject, event.source) == (
        "mediation.events",
        "mediation.case.due_soon",
        "P1",
        "/units/justice",
    )
    assert event.data == {
        "case_id": "P1",
        "case_type": "petition",
        "clock": "acceptance",
        "unit": "justice",
        "due_date": "2026-12-02",
        "days_left": 2,
    }
    assert event.id == derived_id("P1/acceptance/2026-12-02", "mediation.case.due_soon")
    assert db[MARKS].docs["due-soon"]["through"] == "2026-12-03"
    # Later looks start at the watermark: P1 is not reminded twice, P2 comes into the window.
    t.clock = lambda: NOW + timedelta(days=1)
    assert await DUE_SOON.run(t) == 0
    t.clock = lambda: NOW + timedelta(days=4)
    await DUE_SOON.run(t)
    assert [(e.subject, e.data["days_left"]) for _, e in published(t)[1:]] == [("P2", 3)]


async def test_a_case_projected_within_three_days_of_a_due_date_is_reminded_when_projected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = await case_docs(
        MemoryDatabase(), monkeypatch, NOW.date(), filing("P1", "petition", date(2026, 11, 17))
    )
    (event,) = [e for _, e in h.publisher.published if e.type == "mediation.case.due_soon"]
    assert event.id == derived_id("P1/acceptance/2026-12-02", "mediation.case.due_soon")
    assert await h.run(event) == [Outcome.APPLIED]
    (row,) = [r for r in h.rows("case_history", case_id="P1") if r["action"] == "due_soon"]
    assert (row["on"], row["due_on"], row["status"]) == ("2026-11-30", "2026-12-02", "filed")
    assert row["note"] == "acceptance due 2026-12-02, justice to act"


async def test_the_request_due_soon_scan_looks_from_today_to_three_days_ahead() -> None:
    db = MemoryDatabase()
    t = timer(db, settings=OpenGovernmentSettings())
    await REQUEST_DUE_SOON.run(t)
    assert day_queries(db, "requests", "due_date") == [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]


async def test_the_deemed_acceptance_scan_finds_the_reviews_that_ended_undecided_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    await case_docs(
        db,
        monkeypatch,
        date(2026, 11, 20),
        filing("R1", "reconsideration", date(2026, 11, 17)),  # its review ends 2026-11-24
        filing("R2", "reconsideration", date(2026, 11, 17)),
        case_event("accepted", "R2", accepted_at=date(2026, 11, 18)),
        filing("R3", "reconsideration", date(2026, 11, 27)),  # ends 2026-12-04
        filing("R4", "reconsideration", date(2026, 11, 2)),  # ended before the first look
        filing("P1", "petition", date(2026, 11, 17)),
    )
    assert db[CASES].docs["R1"][DEEM_ACCEPTED_DAY] == "2026-11-25"
    assert DEEM_ACCEPTED_DAY not in db[CASES].docs["R2"]
    t = timer(db, settings=MediationSettings())
    looked = await DEEMED_ACCEPTANCE.look(t)
    db.queries.clear()
    await DEEMED_ACCEPTANCE.run(t)
    assert day_queries(db, CASES, DEEM_ACCEPTED_DAY) == [f"2026-11-{day}" for day in range(24, 31)]
    ((topic, event),) = published(t)
    assert (topic, event.type, event.subject, event.source) == (
        "mediation.events",
        "mediation.case.deemed_accepted",
        "R1",
        "/units/justice",
    )
    assert event.data == {"case_id": "R1", "review_ended_on": "2026-11-24"}
    assert event.id == derived_id("R1/acceptance/2026-11-24", "mediation.case.deemed_accepted")
    assert [e.id for e in looked] == [event.id]  # a look finds the event a run publishes


async def test_a_reconsideration_projected_after_its_review_ended_is_found_on_that_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    await db[MARKS].replace_one(
        {"_id": "deemed-acceptance"}, {"through": "2026-11-29"}, upsert=True
    )
    await case_docs(
        db, monkeypatch, NOW.date(), filing("R1", "reconsideration", date(2026, 10, 12))
    )
    assert db[CASES].docs["R1"][DEEM_ACCEPTED_DAY] == "2026-11-30"
    t = timer(db, settings=MediationSettings())
    (event,) = await DEEMED_ACCEPTANCE.look(t)
    assert event.data == {"case_id": "R1", "review_ended_on": "2026-10-19"}
    assert event.id == derived_id("R1/acceptance/2026-10-19", "mediation.case.deemed_accepted")


async def test_the_unreviewed_closing_scan_finds_the_windows_that_ended_unused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    review = case_event(
        "review_requested",
        "P2",
        requested_at=date(2026, 10, 5),
        reply_received_at=date(2026, 10, 2),
        to_unit="区政府",
    )
    await case_docs(
        db,
        monkeypatch,
        date(2026, 11, 20),
        *handled("P1", date(2026, 10, 26)),  # 复查 could be asked until 2026-11-25
        *handled("P2", date(2026, 10, 1)),
        review,
        opinion("P2", date(2026, 10, 27)),  # 复核 could be asked until 2026-11-26
        *handled("P3", date(2026, 11, 10)),  # until 2026-12-10
        *handled("P4", date(2026, 10, 26)),
        case_event(
            "review_requested",
            "P4",
            requested_at=date(2026, 11, 2),
            reply_received_at=date(2026, 10, 27),
            to_unit="区政府",
        ),
        filing("R1", "reconsideration", date(2026, 11, 17)),
    )
    t = timer(db, settings=MediationSettings())
    await UNREVIEWED_CLOSING.run(t)
    assert [
        (e.subject, e.data["not_requested"], e.data["window_ended_on"]) for _, e in published(t)
    ] == [
        ("P1", "review", "2026-11-25"),
        ("P2", "rereview", "2026-11-26"),
    ]
    assert [e.id for _, e in published(t)] == [
        derived_id("P1/review/2026-11-25", "mediation.case.closed_unreviewed"),
        derived_id("P2/rereview/2026-11-26", "mediation.case.closed_unreviewed"),
    ]
    assert db[MARKS].docs["unreviewed-closing"]["through"] == "2026-11-30"


async def test_cases_projected_before_they_kept_their_lapse_day_get_it_when_the_worker_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = MemoryDatabase()
    await case_docs(
        db,
        monkeypatch,
        date(2026, 11, 20),
        filing("R1", "reconsideration", date(2026, 11, 17)),
        *handled("P1", date(2026, 10, 26)),
        filing("P2", "petition", date(2026, 11, 17)),
    )
    for doc in db[CASES].docs.values():
        doc.pop(DEEM_ACCEPTED_DAY, None)
        doc.pop(CLOSE_UNREVIEWED_DAY, None)
    versions = {case_id: doc["_v"] for case_id, doc in db[CASES].docs.items()}
    monkeypatch.setattr("petition_mediation.cases.timers.today", lambda: NOW.date())
    await mark_lapse_days(cast(Any, db))
    docs = db[CASES].docs
    assert docs["R1"][DEEM_ACCEPTED_DAY] == "2026-11-30"  # its review ended on 2026-11-24
    assert docs["P1"][CLOSE_UNREVIEWED_DAY] == "2026-11-30"  # its window on 2026-11-25
    assert DEEM_ACCEPTED_DAY not in docs["P2"]
    assert CLOSE_UNREVIEWED_DAY not in docs["P2"]
    assert {case_id: doc["_v"] - versions[case_id] for case_id, doc in docs.items()} == {
        "R1": 1,
        "P1": 1,
        "P2": 0,
    }
    assert {q.get("status") for c, q in db.queries if c == CASES and "_id" not in q} == {
        "acceptance_review",
        "handled",
        "reviewed",
    }
