"""The worker's timer: holiday schedules an operator loaded move the clocks waiting for them,
and clocks that passed their due date are reported (`mediation.case.overdue`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.calendarstore import COLLECTION as SCHEDULES
from fazhi.codec import clock_summary
from fazhi.contracts import derived_event
from fazhi.contracts.mediation import CaseType
from fazhi.envelope import CloudEvent
from fazhi.projection import UPDATE_BATCH, VERSION, Document
from fazhi.settings import ServiceSettings
from fazhi.workdays import WorkCalendar, default_calendar
from fazhi.worker import Timer, TimerContext
from petition_mediation.cases.document import (
    Derivation,
    board_of,
    case_source,
    overdue_reports,
    refresh,
    today,
)
from petition_mediation.codec import decode_case
from petition_mediation.config import Settings
from petition_mediation.domain.board import overdue
from petition_mediation.events import CATALOG
from petition_mediation.store import CASES, MARKS

FIRST_LOOK_BACK = timedelta(days=7)
"""How far back a worker that never swept looks; a case posted later than that was reported
when it was projected."""
_SWEPT = "overdue"
_REFRESHED = (
    "clock",
    "status",
    "case",
    "board",
    "clocks",
    "due_days",
    "provisional_years",
    "overdue",
    "late",
    "final",
)


async def tick(ctx: TimerContext) -> None:
    await load_schedules(ctx, default_calendar())
    await sweep(ctx, today())


def _interval(settings: ServiceSettings) -> float:
    assert isinstance(settings, Settings)
    return settings.timer_interval_s


def _shared(ctx: TimerContext) -> AsyncDatabase[dict[str, Any]]:
    """The database every service shares (keys, holiday schedules)."""
    return ctx.db.client[ctx.settings.auth_db]


async def load_schedules(
    ctx: TimerContext, calendar: WorkCalendar, topic: str = CATALOG.topic
) -> None:
    """Load every stored schedule into `calendar` (the one the machines count on); for each
    year loaded or changed since, recompute the cases whose clocks waited for it."""
    for schedule in await _shared(ctx)[SCHEDULES].find({}).to_list():
        year = schedule["_id"]
        calendar.load_schedule(
            year,
            [date.fromisoformat(d) for d in schedule.get("holidays", ())],
            [date.fromisoformat(d) for d in schedule.get("workdays", ())],
        )
        mark_id = f"calendar:{year}"
        mark = await ctx.db[MARKS].find_one({"_id": mark_id})
        if mark is not None and mark.get("loaded_at") == schedule.get("loaded_at"):
            continue
        await recompute(ctx, year, calendar, topic)
        await ctx.db[MARKS].replace_one(
            {"_id": mark_id},
            {"_id": mark_id, "loaded_at": schedule.get("loaded_at")},
            upsert=True,
        )


async def recompute(
    ctx: TimerContext, year: int, calendar: WorkCalendar, topic: str = CATALOG.topic
) -> None:
    """Work the clocks of every case provisional in `year` out again on the calendar as it
    now is; a case that changed meanwhile was worked out on it by its handler already."""
    now = today()
    updates: list[UpdateOne] = []
    events: list[CloudEvent] = []
    async for doc in ctx.db[CASES].find({"provisional_years": year}):
        events += _refreshed(doc, now, calendar)
        fields = {name: doc[name] for name in _REFRESHED if name in doc}
        updates.append(
            UpdateOne(
                {"_id": doc["_id"], VERSION: doc.get(VERSION, 0)},
                {"$set": {**fields, VERSION: doc.get(VERSION, 0) + 1}},
            )
        )
    for i in range(0, len(updates), UPDATE_BATCH):
        await ctx.db[CASES].bulk_write(updates[i : i + UPDATE_BATCH], ordered=False)
    if events:
        await ctx.publisher.publish(topic, events)


def _refreshed(doc: Document, now: date, calendar: WorkCalendar) -> list[CloudEvent]:
    case = decode_case(CaseType(doc["case_type"]), doc["case"])
    running = case.clock.recompute(calendar=calendar) if case.clock is not None else None
    doc["clock"] = clock_summary(running)
    return _events(doc, refresh(doc, tuple(t.on_calendar(calendar) for t in board_of(doc)), now))


def _events(doc: Document, derivations: list[Derivation]) -> list[CloudEvent]:
    return [derived_event(d, cause=cause, source=case_source(doc)) for d, cause in derivations]


async def sweep(ctx: TimerContext, now: date, topic: str = CATALOG.topic) -> None:
    """Report the clocks due on each day since the last sweep that are now past due: one
    equality query per day, on the due days of running clocks."""
    mark: dict[str, Any] | None = await ctx.db[MARKS].find_one({"_id": _SWEPT})
    day = date.fromisoformat(mark["through"]) + timedelta(days=1) if mark else now - FIRST_LOOK_BACK
    while day < now:
        events: list[CloudEvent] = []
        async for doc in ctx.db[CASES].find({"due_days": day.isoformat()}):
            late = [t for t in overdue(board_of(doc), now) if t.clock.due_on == day]
            events += _events(doc, overdue_reports(doc, late, now))
        if events:
            await ctx.publisher.publish(topic, events)
        await ctx.db[MARKS].replace_one(
            {"_id": _SWEPT}, {"_id": _SWEPT, "through": day.isoformat()}, upsert=True
        )
        day += timedelta(days=1)


TIMERS = (Timer("clocks", _interval, tick),)
