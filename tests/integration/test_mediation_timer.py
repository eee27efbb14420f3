"""The petition-mediation worker's timer on the real stack: a clock due on a day the timer
has not swept yet is reported overdue once (equality on the due day), and a schedule loaded
for a year moves the stored clocks that waited for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from fazhi.bus.publisher import KafkaPublisher
from fazhi.bus.timers import TimerContext
from fazhi.contracts.envelope import CHINA_TZ, from_kafka, new_event
from fazhi.rules.workdays import WorkCalendar
from fazhi.store.calendar import COLLECTION as SCHEDULES
from petition_mediation.cases.timers import load_schedules, sweep
from petition_mediation.config import Settings
from petition_mediation.store import CASES, MARKS, ensure_indexes
from petition_mediation.worker import WORKER
from tests.support.harness import Harness
from tests.support.kafka import read_topic
from tests.support.processes import KAFKA, MONGO

pytestmark = pytest.mark.integration


@pytest.fixture
async def timer() -> AsyncIterator[tuple[TimerContext, str]]:
    topic = f"test.mediation.timer.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGO, tz_aware=True)
    suffix = uuid.uuid4().hex[:6]
    db, shared = client[f"test_timer_{suffix}"], client[f"test_timer_shared_{suffix}"]
    publisher = KafkaPublisher(KAFKA, client_id="test-timer")
    await publisher.start()
    try:
        await ensure_indexes(db)
        settings = Settings(auth_db=shared.name)
        yield TimerContext(settings, db, publisher), topic
    finally:
        await publisher.stop()
        await client.drop_database(db.name)
        await client.drop_database(shared.name)
        await client.close()
        await admin.delete_topics([topic])
        await admin.close()


async def _case(ctx: TimerContext, case_type: str, filed: date) -> dict[str, Any]:
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


async def test_a_clock_due_on_a_day_not_yet_swept_is_reported_overdue_once(
    timer: tuple[TimerContext, str],
) -> None:
    ctx, topic = timer
    doc = await _case(ctx, "petition", date(2026, 9, 16))
    assert doc["due_days"] == ["2026-10-08"]
    await ctx.db[MARKS].insert_one({"_id": "overdue", "through": "2026-10-06"})
    await sweep(ctx, date(2026, 10, 8), topic)  # sweeps 10-07: nothing is due yet
    assert await read_topic(topic) == []
    await sweep(ctx, date(2026, 10, 10), topic)  # sweeps 10-08 and 10-09
    await sweep(ctx, date(2026, 10, 11), topic)
    events = [from_kafka(r.value) for r in await read_topic(topic)]
    assert [(e.type, e.subject) for e in events] == [("mediation.case.overdue", "C1")]
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
    timer: tuple[TimerContext, str],
) -> None:
    ctx, topic = timer
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
    await load_schedules(ctx, calendar, topic)
    assert not calendar.is_provisional(2031)
    stored = await ctx.db[CASES].find_one({"_id": "C1"})
    assert stored is not None
    assert (stored["due_days"], stored["provisional_years"]) == (["2031-10-13"], [])
    assert stored["clocks"][0]["due_date"] == "2031-10-13"
    assert stored["_v"] == doc["_v"] + 1
