"""Operator-loaded holiday schedules in MongoDB and the per-process calendar cache built from them."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.rules.workdays import WorkCalendar

log = logging.getLogger(__name__)

COLLECTION = "calendar_schedules"
MIN_YEAR = 2000
MAX_YEAR = 2100
_ORDINARY = frozenset({"working day", "weekend"})
_ONE_DAY = timedelta(days=1)

Database = AsyncDatabase[dict[str, Any]]


# -- pure parts ----------------------------------------------------------------------


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


def _parse_document(doc: Mapping[str, Any]) -> tuple[int, list[date], list[date]]:
    year = doc["_id"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise ValueError(f"_id must be the year as an integer, got {year!r}")
    holidays = [date.fromisoformat(str(s)) for s in doc.get("holidays", ())]
    # A weekday is a working day anyway; listing it as a make-up day changes nothing.
    workdays = [
        d for d in (date.fromisoformat(str(s)) for s in doc.get("workdays", ())) if _is_weekend(d)
    ]
    return year, holidays, workdays


def calendar_from_documents(docs: Iterable[Mapping[str, Any]]) -> WorkCalendar:
    """A calendar with every stored year loaded as an override. A malformed document (only
    possible by editing the collection by hand) is skipped with a warning, so one bad year
    cannot take every deadline down."""
    calendar = WorkCalendar()
    for doc in docs:
        try:
            year, holidays, workdays = _parse_document(doc)
            calendar.load_schedule(year, holidays, workdays)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("skipping malformed %s document %r: %s", COLLECTION, doc.get("_id"), exc)
    return calendar


# -- MongoDB -------------------------------------------------------------------------


async def load_calendar(db: Database) -> WorkCalendar:
    """A WorkCalendar with every year stored in ``db.calendar_schedules`` loaded as an
    override (raises ``PyMongoError`` when MongoDB is unreachable)."""
    docs = await db[COLLECTION].find({}).to_list()
    return calendar_from_documents(docs)


async def find_schedule(db: Database, year: int) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": year})


async def store_schedule(
    db: Database,
    year: int,
    *,
    holidays: Iterable[date],
    workdays: Iterable[date],
    loaded_by: str,
    note: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Insert or replace the schedule of ``year``; returns the stored document. The dates
    are checked like ``WorkCalendar.load_schedule`` does (``ValueError`` if wrong)."""
    rest = sorted(set(holidays))
    work = sorted(set(workdays))
    WorkCalendar().load_schedule(year, rest, work)
    doc: dict[str, Any] = {
        "_id": year,
        "holidays": [d.isoformat() for d in rest],
        "workdays": [d.isoformat() for d in work],
        "loaded_at": now or datetime.now(UTC),
        "loaded_by": loaded_by,
        "note": note,
    }
    await db[COLLECTION].replace_one({"_id": year}, doc, upsert=True)
    return doc


async def delete_schedule(db: Database, year: int) -> bool:
    """Remove the override of ``year``; False if there was none."""
    result = await db[COLLECTION].delete_one({"_id": year})
    return result.deleted_count == 1


# -- the per-process cache -----------------------------------------------------------


class CalendarCache:
    """The current WorkCalendar of a process.

    ``await get(db)`` reloads from MongoDB when the calendar is older than ``max_age_s``
    (or after ``invalidate()``). While a reload is in flight other callers get the current
    calendar rather than wait. When MongoDB is unreachable the last calendar is kept (a
    warning is logged) and the reload is retried after ``retry_s``; before the first good
    load that is the official schedule with weekends-only provisional years.
    """

    def __init__(
        self,
        *,
        max_age_s: float = 60.0,
        retry_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_age_s < 0 or retry_s < 0:
            raise ValueError("max_age_s and retry_s must be >= 0")
        self.max_age_s = max_age_s
        self.retry_s = retry_s
        self._clock = clock
        self._calendar = WorkCalendar()
        self._loaded = False
        self._next_refresh = -math.inf
        self._generation = 0
        self._lock = asyncio.Lock()

    @property
    def calendar(self) -> WorkCalendar:
        """The calendar last loaded, without touching MongoDB."""
        return self._calendar

    @property
    def loaded(self) -> bool:
        """True once a load from MongoDB has succeeded."""
        return self._loaded

    def invalidate(self) -> None:
        """Reload on the next ``get`` (e.g. this process just stored a schedule)."""
        self._generation += 1
        self._next_refresh = -math.inf

    async def get(self, db: Database) -> WorkCalendar:
        if self._clock() < self._next_refresh:
            return self._calendar
        if self._loaded and self._lock.locked():
            return self._calendar
        async with self._lock:
            if self._clock() < self._next_refresh:
                return self._calendar
            generation = self._generation
            try:
                calendar = await load_calendar(db)
            except PyMongoError as exc:
                log.warning(
                    "holiday schedules not reloaded (MongoDB unreachable); keeping the %s "
                    "calendar: %s",
                    "last loaded" if self._loaded else "official-only",
                    exc,
                )
                if generation == self._generation:
                    self._next_refresh = self._clock() + self.retry_s
                return self._calendar
            self._calendar = calendar
            self._loaded = True
            if generation == self._generation:
                self._next_refresh = self._clock() + self.max_age_s
            return self._calendar
