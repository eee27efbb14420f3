"""The worker's timers: holiday schedules an operator loaded move the clocks waiting for them,
and a day scan of the due days reports the clocks that passed (`CaseOverdue`)."""

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
from fazhi.workdays import WorkCalendar, default_calendar
from fazhi.worker import DayLook, DayScan, Timer, TimerContext
from petition_mediation.cases.document import (
    BOARD,
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
from petition_mediation.store import CASES, MARKS

FIRST_LOOK_DAYS = 7
"""How many due days a worker that never looked goes back; a case posted later than that was
reported when it was projected."""
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
_OVERDUE_FIELDS = {BOARD: 1, "case_type": 1, "unit": 1, "respondent_unit": 1}


def _interval(settings: Settings) -> float:
    return settings.timer_interval_s


def _shared(t: TimerContext[Settings]) -> AsyncDatabase[dict[str, Any]]:
    """The database every service shares (keys, holiday schedules)."""
    return t.db.client[t.settings.auth_db]


async def _load_schedules(t: TimerContext[Settings]) -> None:
    await load_schedules(t, default_calendar())


async def load_schedules(t: TimerContext[Settings], calendar: WorkCalendar) -> None:
    """Load every stored schedule into `calendar` (the one the machines count on); for each
    year loaded or changed since, recompute the cases whose clocks waited for it."""
    for schedule in await _shared(t)[SCHEDULES].find({}).to_list():
        year = schedule["_id"]
        calendar.load_schedule(
            year,
            [date.fromisoformat(d) for d in schedule.get("holidays", ())],
            [date.fromisoformat(d) for d in schedule.get("workdays", ())],
        )
        mark_id = f"calendar:{year}"
        mark = await t.db[MARKS].find_one({"_id": mark_id})
        if mark is not None and mark.get("loaded_at") == schedule.get("loaded_at"):
            continue
        await recompute(t, year, calendar)
        await t.db[MARKS].replace_one(
            {"_id": mark_id},
            {"_id": mark_id, "loaded_at": schedule.get("loaded_at")},
            upsert=True,
        )


async def recompute(t: TimerContext[Settings], year: int, calendar: WorkCalendar) -> None:
    """Work the clocks of every case provisional in `year` out again on the calendar as it
    now is; a case that changed meanwhile was worked out on it by its handler already."""
    now = today()
    updates: list[UpdateOne] = []
    events: list[CloudEvent] = []
    async for doc in t.db[CASES].find({"provisional_years": year}):
        events += _refreshed(doc, now, calendar)
        fields = {name: doc[name] for name in _REFRESHED if name in doc}
        updates.append(
            UpdateOne(
                {"_id": doc["_id"], VERSION: doc.get(VERSION, 0)},
                {"$set": {**fields, VERSION: doc.get(VERSION, 0) + 1}},
            )
        )
    for i in range(0, len(updates), UPDATE_BATCH):
        await t.db[CASES].bulk_write(updates[i : i + UPDATE_BATCH], ordered=False)
    await t.publish(events)


def _refreshed(doc: Document, now: date, calendar: WorkCalendar) -> list[CloudEvent]:
    case = decode_case(CaseType(doc["case_type"]), doc["case"])
    running = case.clock.recompute(calendar=calendar) if case.clock is not None else None
    doc["clock"] = clock_summary(running)
    return _events(doc, refresh(doc, tuple(t.on_calendar(calendar) for t in board_of(doc)), now))


def _events(doc: Document, derivations: list[Derivation]) -> list[CloudEvent]:
    return [derived_event(d, cause=cause, source=case_source(doc)) for d, cause in derivations]


def overdue_events(doc: Document, look: DayLook[Settings]) -> list[CloudEvent]:
    """The clocks of `doc` due on the day looked at that are past due today."""
    late = [t for t in overdue(board_of(doc), look.today) if t.clock.due_on == look.day]
    return _events(doc, overdue_reports(doc, late, look.today))


def _yesterday(settings: Settings, today: date) -> date:
    """A clock due yesterday is overdue today."""
    return today - timedelta(days=1)


SCHEDULES_LOADED = Timer("schedules", _interval, _load_schedules)
OVERDUE = DayScan(
    "overdue",
    _interval,
    CASES,
    "due_days",
    overdue_events,
    MARKS,
    first_look_days=FIRST_LOOK_DAYS - 1,
    last_day=_yesterday,
    fields=_OVERDUE_FIELDS,
)
"""`mediation.case.overdue` once per case, clock and due date; its watermark is the one the
hand-written sweep kept (`{"_id": "overdue", "through": <day>}`)."""

TIMERS = (SCHEDULES_LOADED, OVERDUE)
