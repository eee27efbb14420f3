"""The worker's timers: holiday schedules an operator loaded move the clocks waiting for them;
day scans remind of the clocks about to pass (`CaseDueSoon`, a few days before the due days),
report the clocks that passed (`CaseOverdue`, on the due days), deem accepted the
reconsiderations whose acceptance review ended undecided (`CaseDeemedAccepted`) and close the
petitions whose review window ended unused (`CaseClosedUnreviewed`). Every derived id comes from
the case and the day its period ended, so each is published once per case and period."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus import DayLook, DayScan, Timer, TimerContext
from fazhi.contracts import derived_event
from fazhi.contracts.envelope import CloudEvent
from fazhi.contracts.mediation import CaseClosedUnreviewed, CaseDeemedAccepted, CaseType
from fazhi.rules import REMINDER_DAYS, WorkCalendar, default_calendar
from fazhi.store import COLLECTION as SCHEDULES
from fazhi.store import UPDATE_BATCH, VERSION, Document, clock_summary
from petition_mediation.cases.document import (
    BOARD,
    Derivation,
    board_of,
    case_source,
    lapse_days,
    overdue_reports,
    refresh,
    reminders,
    today,
)
from petition_mediation.codec import decode_case
from petition_mediation.config import Settings
from petition_mediation.domain import (
    Case,
    PetitionCase,
    PetitionState,
    ReconsiderationCase,
    ReconsiderationState,
    acceptance_review_ends,
    review_window,
)
from petition_mediation.domain.board import overdue
from petition_mediation.store import CASES, CLOSE_UNREVIEWED_DAY, DEEM_ACCEPTED_DAY, MARKS

FIRST_LOOK_DAYS = 7
"""How many days a worker that never looked goes back; a case projected after its period ended
is reported overdue when projected, and looked at for its lapse on that day."""
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
    DEEM_ACCEPTED_DAY,
    CLOSE_UNREVIEWED_DAY,
)
_OVERDUE_FIELDS = {BOARD: 1, "case_type": 1, "unit": 1, "respondent_unit": 1}
_LAPSE_FIELDS = {"case": 1, "case_type": 1, "unit": 1}


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
    case = _case(doc)
    running = case.clock.recompute(calendar=calendar) if case.clock is not None else None
    doc["clock"] = clock_summary(running)
    lapse_days(doc, dataclasses.replace(case, clock=running), now)
    return _events(doc, refresh(doc, tuple(t.on_calendar(calendar) for t in board_of(doc)), now))


def _events(doc: Document, derivations: list[Derivation]) -> list[CloudEvent]:
    return [derived_event(d, cause=cause, source=case_source(doc)) for d, cause in derivations]


def overdue_events(doc: Document, look: DayLook[Settings]) -> list[CloudEvent]:
    """The clocks of `doc` due on the day looked at that are past due today."""
    late = [t for t in overdue(board_of(doc), look.today) if t.clock.due_on == look.day]
    return _events(doc, overdue_reports(doc, late, look.today))


def reminder_events(doc: Document, look: DayLook[Settings]) -> list[CloudEvent]:
    """The clocks of `doc` due on the day looked at that are about to pass today."""
    soon = [t for t in board_of(doc) if t.clock.due_on == look.day]
    return _events(doc, reminders(doc, soon, look.today))


def deemed_acceptance(doc: Document, look: DayLook[Settings]) -> CloudEvent | None:
    """A reconsideration whose acceptance review ended before today with no decision is deemed
    accepted as of the review's last day (行政复议法 art. 30(3))."""
    case = _case(doc)
    ends = acceptance_review_ends(case) if isinstance(case, ReconsiderationCase) else None
    if ends is None or ends >= look.today:
        return None
    return derived_event(
        CaseDeemedAccepted(case_id=doc["_id"], review_ended_on=ends),
        cause=f"{doc['_id']}/acceptance/{ends.isoformat()}",
        source=case_source(doc),
        time=look.now,
    )


def unreviewed_closing(doc: Document, look: DayLook[Settings]) -> CloudEvent | None:
    """A petition whose window for review (复查) or re-review (复核) ended before today with no
    request is closed (信访工作条例 arts. 35-36)."""
    case = _case(doc)
    window = review_window(case) if isinstance(case, PetitionCase) else None
    if window is None or window[1] >= look.today:
        return None
    level, ends = window
    return derived_event(
        CaseClosedUnreviewed(case_id=doc["_id"], not_requested=level, window_ended_on=ends),
        cause=f"{doc['_id']}/{level}/{ends.isoformat()}",
        source=case_source(doc),
        time=look.now,
    )


LAPSING = (
    str(ReconsiderationState.ACCEPTANCE_REVIEW),
    str(PetitionState.HANDLED),
    str(PetitionState.REVIEWED),
)
"""The states in which a case lapses if no step comes."""


async def mark_lapse_days(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Give the cases in a lapsing state the day they lapse on when they were projected before
    cases kept it (one query per state, on its index), so the day scans find them too."""
    now = today()
    updates: list[UpdateOne] = []
    for status in LAPSING:
        async for doc in db[CASES].find({"status": status}):
            if DEEM_ACCEPTED_DAY in doc or CLOSE_UNREVIEWED_DAY in doc:
                continue
            lapse_days(doc, _case(doc), now)
            fields = {n: doc[n] for n in (DEEM_ACCEPTED_DAY, CLOSE_UNREVIEWED_DAY) if n in doc}
            version = doc.get(VERSION, 0)
            updates.append(
                UpdateOne(
                    {"_id": doc["_id"], VERSION: version},
                    {"$set": {**fields, VERSION: version + 1}},
                )
            )
    for i in range(0, len(updates), UPDATE_BATCH):
        await db[CASES].bulk_write(updates[i : i + UPDATE_BATCH], ordered=False)


def _case(doc: Document) -> Case:
    return decode_case(CaseType(doc["case_type"]), doc["case"])


def _reminder_horizon(settings: Settings, today: date) -> date:
    """The last due day a clock about to pass today can have."""
    return today + timedelta(days=REMINDER_DAYS)


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
DUE_SOON = DayScan(
    "due-soon",
    _interval,
    CASES,
    "due_days",
    reminder_events,
    MARKS,
    first_look_days=REMINDER_DAYS,
    last_day=_reminder_horizon,
    max_back_days=REMINDER_DAYS,
    fields=_OVERDUE_FIELDS,
)
"""`mediation.case.due_soon` once per case, clock and due date, as the due day comes within
`REMINDER_DAYS` (a case projected inside that window is reminded when it is projected)."""
DEEMED_ACCEPTANCE = DayScan(
    "deemed-acceptance",
    _interval,
    CASES,
    DEEM_ACCEPTED_DAY,
    deemed_acceptance,
    MARKS,
    first_look_days=FIRST_LOOK_DAYS - 1,
    fields=_LAPSE_FIELDS,
)
UNREVIEWED_CLOSING = DayScan(
    "unreviewed-closing",
    _interval,
    CASES,
    CLOSE_UNREVIEWED_DAY,
    unreviewed_closing,
    MARKS,
    first_look_days=FIRST_LOOK_DAYS - 1,
    fields=_LAPSE_FIELDS,
)

TIMERS = (SCHEDULES_LOADED, OVERDUE, DUE_SOON, DEEMED_ACCEPTANCE, UNREVIEWED_CLOSING)
