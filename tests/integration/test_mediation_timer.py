"""The petition-mediation worker's timers on the real store: a clock due on a day the overdue
scan has not looked at yet is reported overdue once (equality on the due day), and a schedule
loaded for a year moves the stored clocks that waited for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient

from fazhi.bus.publisher import FakePublisher
from fazhi.bus.timers import TimerContext
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, new_event
from fazhi.rules.workdays import WorkCalendar
from fazhi.store.calendar import COLLECTION as SCHEDULES
from petition_mediation.cases.timers import OVERDUE, load_schedules
from petition_mediation.config import Settings
from petition_mediation.store import CASES, MARKS, ensure_indexes
from petition_mediation.worker import WORKER
from tests.support.harness import Harness
from tests.support.processes import MONGO

pytestmark = pytest.mark.integration


@pytest.fixture
async def timer() -> AsyncIterator[TimerContext[Settings]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    suffix = uuid.uuid4().hex[:6]
    db, shared = client[f"test_timer_{suffix}"], client[f"test_timer_shared_{suffix}"]
    try:
        await ensure_indexes(db)
        settings = Settings(auth_db=shared.name)
        yield TimerContext(settings, db, FakePublisher())
    finally:
        await client.drop_database(db.name)
        await client.drop_database(shared.name)
        await client.close()


def on(t: TimerContext[Settings], day: date) -> TimerContext[Settings]:
    """The timer as it runs on the morning of `day`."""
    t.clock = lambda: datetime.combine(day, time(9), CHINA_TZ)
    return t


def published(t: TimerContext[Settings]) -> list[tuple[str, CloudEvent]]:
    return cast(FakePublisher, t.publisher).published


async def _case(ctx: TimerContext[Settings], case_type: str, filed: date) -> dict[str, Any]:
    """A case document as the worker projects it (the handlers on the in-memory store)."""
    h = Harness(WORKER)
    filed_at = datetime(filed.year, filed.month, filed.day, 10, tzinfo=CHINA_TZ)
    await h.run(
        new_event(
            type="mediation.case.filed",
            source="/units/justice",
            subject="C1",
            data={
                "case_id": "C1",
                "case_type": case_type,
                "category": "行政处罚",
                "applicant": {"name": "张三"},
                "respondent_unit": "market-regulation",
                "summary": "不服处罚",
                "filed_at": filed_at.isoformat(),
            },
        )
    )
    doc: dict[str, Any] = h.doc(CASES, "C1")
    await ctx.db[CASES].insert_one(dict(doc))
    return doc


async def test_a_clock_due_on_a_day_not_yet_looked_at_is_reported_overdue_once(
    timer: TimerContext[Settings],
) -> None:
    ctx = timer
    doc = await _case(ctx, "petition", date(2026, 9, 16))
    assert doc["due_days"] == ["2026-10-08"]
    await ctx.db[MARKS].insert_one({"_id": "overdue", "through": "2026-10-06"})
    await OVERDUE.run(on(ctx, date(2026, 10, 8)))  # looks at 10-06 and 10-07: nothing is due
    assert published(ctx) == []
    await OVERDUE.run(on(ctx, date(2026, 10, 10)))  # 10-07 to 10-09
    await OVERDUE.run(on(ctx, date(2026, 10, 11)))
    assert [(topic, e.type, e.subject) for topic, e in published(ctx)] == [
        ("mediation.events", "mediation.case.overdue", "C1")
    ]
    events = [e for _, e in published(ctx)]
    assert events[0].data == {
        "case_id": "C1",
        "case_type": "petition",
        "clock": "acceptance",
        "unit": "justice",
        "due_date": "2026-10-08",
        "days_overdue": 2,
    }
    assert (await ctx.db[MARKS].find_one({"_id": "overdue"}) or {})["through"] == "2026-10-10"


async def test_a_loaded_schedule_moves_the_stored_clocks_that_waited_for_it(
    timer: TimerContext[Settings],
) -> None:
    ctx = timer
    doc = await _case(ctx, "reconsideration", date(2031, 9, 30))
    assert (doc["due_days"], doc["provisional_years"]) == (["2031-10-07"], [2031])
    await ctx.db.client[ctx.settings.auth_db][SCHEDULES].insert_one(
        {
            "_id": 2031,
            "holidays": [f"2031-10-0{d}" for d in range(1, 8)],
            "workdays": ["2031-09-28", "2031-10-11"],
            "loaded_at": datetime.now(UTC),
        }
    )
    calendar = WorkCalendar()
    await load_schedules(ctx, calendar)
    assert not calendar.is_provisional(2031)
    stored = await ctx.db[CASES].find_one({"_id": "C1"})
    assert stored is not None
    assert (stored["due_days"], stored["provisional_years"]) == (["2031-10-13"], [])
    assert stored["clocks"][0]["due_date"] == "2031-10-13"
    assert stored["_v"] == doc["_v"] + 1
