"""Operator-loaded holiday schedules, stored in MongoDB and shared by every service.

The State Council publishes each year's holiday schedule late in the previous year, and
``chinesecalendar`` only knows the years of its release. An operator loads a missing (or
corrected) year with ``PUT /v1/calendar/{year}``; the schedule lands in the shared
``<auth db>.calendar_schedules`` collection, one document per year::

    {_id: 2027, holidays: ["2027-10-01", ...], workdays: ["2027-09-26", ...],
     loaded_at: <datetime>, loaded_by: <key id>, note: "..."}

Every process computes deadlines on ``await CalendarCache.get(db)``: the stored years as
overrides on top of the official schedule, refreshed at most once a minute, and the last
good calendar kept when MongoDB is away (a deadline must not fail because of it).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.models import SHORT_TEXT_PATTERN
from fazhi.problems import Problem, invalid_fields
from fazhi.runtime import Caller, Operator, ServiceRuntime, runtime
from fazhi.web.body import read_json_body
from fazhi.workdays import DaySource, WorkCalendar

__all__ = [
    "COLLECTION",
    "MAX_YEAR",
    "MIN_YEAR",
    "CalendarCache",
    "CalendarDay",
    "ScheduleIn",
    "YearSchedule",
    "calendar_cache",
    "calendar_db",
    "calendar_from_documents",
    "calendar_router",
    "check_schedule",
    "delete_schedule",
    "find_schedule",
    "load_calendar",
    "store_schedule",
    "work_calendar",
    "year_schedule",
]

log = logging.getLogger(__name__)

COLLECTION = "calendar_schedules"
MIN_YEAR = 2000
MAX_YEAR = 2100
_MAX_DATES = 366
_ORDINARY = frozenset({"working day", "weekend"})
_ONE_DAY = timedelta(days=1)

Database = AsyncDatabase[dict[str, Any]]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    # Only "YYYY-MM-DD": pydantic's lax mode would also take timestamps and datetimes.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date") from None


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


# -- models --------------------------------------------------------------------------


class ScheduleIn(BaseModel):
    """An official holiday schedule for one year, as an operator loads it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    holidays: list[IsoDate] = Field(
        min_length=1,
        max_length=_MAX_DATES,
        description="Rest days (放假), ISO dates of the year in the path.",
    )
    workdays: list[IsoDate] = Field(
        default_factory=list,
        max_length=_MAX_DATES,
        description="调休 make-up working days: weekend dates worked. A weekday here is a no-op.",
    )
    note: str = Field(
        default="",
        max_length=500,
        pattern=SHORT_TEXT_PATTERN,
        description="Where the schedule comes from, e.g. the State Council notice number.",
    )


class CalendarDay(BaseModel):
    date: date
    working: bool
    reason: str
    source: DaySource


class YearSchedule(BaseModel):
    """The effective schedule of a year: every day that is not an ordinary weekday or weekend."""

    year: int
    source: DaySource = Field(
        description="override (operator-loaded), official (chinesecalendar) or weekends-only"
    )
    provisional: bool = Field(
        description="True when no schedule is known and deadlines assume weekends only"
    )
    days: list[CalendarDay]
    holidays: int = Field(description="Rest days on weekdays (days off beyond the weekends)")
    workdays: int = Field(description="Make-up working days on weekends")
    loaded_at: datetime | None = None
    loaded_by: str | None = Field(default=None, description="Key id of the operator")
    note: str | None = None
    ignored_workdays: list[date] = Field(
        default_factory=list,
        description="Weekdays sent as make-up working days: already working days, not stored",
    )


# -- pure parts ----------------------------------------------------------------------


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


def check_schedule(year: int, body: ScheduleIn) -> tuple[list[date], list[date], list[date]]:
    """The sorted, de-duplicated ``(holidays, workdays, ignored_workdays)`` of a schedule for
    ``year``; raises a 422 problem naming each field whose date is out of the year or listed
    both as a holiday and as a working day. Weekdays in ``workdays`` are already working
    days: they are returned as ignored, not rejected."""
    errors: list[dict[str, str]] = []
    for name, days in (("holidays", body.holidays), ("workdays", body.workdays)):
        for i, d in enumerate(days):
            if d.year != year:
                errors.append({"field": f"{name}.{i}", "message": f"{d} is not in {year}"})
    rest = set(body.holidays)
    for i, d in enumerate(body.workdays):
        if d in rest and d.year == year:
            errors.append({"field": f"workdays.{i}", "message": f"{d} is also listed in holidays"})
    if errors:
        raise invalid_fields(errors, what=f"schedule for {year}")
    workdays = sorted({d for d in body.workdays if _is_weekend(d)})
    ignored = sorted({d for d in body.workdays if not _is_weekend(d)})
    return sorted(rest), workdays, ignored


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


def year_schedule(calendar: WorkCalendar, year: int) -> YearSchedule:
    """The effective schedule of ``year`` on ``calendar``, from ``WorkCalendar.day_info``:
    holidays, make-up working days and holidays falling on weekends; ordinary weekdays and
    weekends are left out."""
    d = date(year, 1, 1)
    year_source = calendar.day_info(d).source
    days: list[CalendarDay] = []
    holidays = workdays = 0
    while d.year == year:
        info = calendar.day_info(d)
        if info.source is not DaySource.WEEKENDS_ONLY and info.reason not in _ORDINARY:
            days.append(
                CalendarDay(date=d, working=info.working, reason=info.reason, source=info.source)
            )
            if _is_weekend(d) and info.working:
                workdays += 1
            elif not _is_weekend(d) and not info.working:
                holidays += 1
        d += _ONE_DAY
    return YearSchedule(
        year=year,
        source=year_source,
        provisional=calendar.is_provisional(year),
        days=days,
        holidays=holidays,
        workdays=workdays,
    )


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


# -- FastAPI -------------------------------------------------------------------------


def calendar_db(rt: ServiceRuntime) -> Database:
    """The shared database holding the schedules (the ``auth`` database every service reaches)."""
    return rt.mongo[rt.settings.auth_db]


async def calendar_cache(request: Request) -> CalendarCache:
    """The process-wide cache, kept on ``app.state`` and created on first use."""
    cache = getattr(request.app.state, "calendar_cache", None)
    if cache is None:
        cache = CalendarCache()
        request.app.state.calendar_cache = cache
    assert isinstance(cache, CalendarCache)
    return cache


async def work_calendar(
    rt: Annotated[ServiceRuntime, Depends(runtime)],
    cache: Annotated[CalendarCache, Depends(calendar_cache)],
) -> WorkCalendar:
    """Dependency: the calendar deadlines of this request are computed on."""
    return await cache.get(calendar_db(rt))


def _unavailable(rt: ServiceRuntime, exc: PyMongoError) -> Problem:
    log.warning("calendar store unreachable: %s", exc)
    return Problem(
        503,
        "The calendar store (MongoDB) is unreachable; retry later.",
        kind="unavailable",
        headers={"Retry-After": str(rt.settings.retry_after_s)},
    )


def _effective(doc: Mapping[str, Any] | None, year: int) -> YearSchedule:
    calendar = calendar_from_documents([doc] if doc is not None else [])
    schedule = year_schedule(calendar, year)
    if doc is not None:
        loaded_at = doc.get("loaded_at")
        schedule.loaded_at = loaded_at if isinstance(loaded_at, datetime) else None
        schedule.loaded_by = str(doc.get("loaded_by", "")) or None
        schedule.note = str(doc.get("note", ""))
    return schedule


_YEAR = re.compile(r"[0-9]{4}")
MAX_SCHEDULE_BYTES = 64 * 1024


def _year_digits(value: object) -> object:
    # Lax int parsing would serve /v1/calendar/2026.0 (or "+2026", " 2026") as 2026.
    if isinstance(value, str) and not _YEAR.fullmatch(value):
        raise ValueError("a year is written as four digits, e.g. 2026")
    return value


YearPath = Annotated[
    int,
    Path(ge=MIN_YEAR, le=MAX_YEAR, description="Calendar year (four digits)"),
    BeforeValidator(_year_digits),
]


_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or unknown API key"},
    422: {"description": "Year out of range, or invalid dates; the problem lists the fields"},
    503: {"description": "MongoDB unreachable; retry later"},
}


def calendar_router() -> APIRouter:
    """``/v1/calendar/{year}``: read the effective holiday schedule; operators load or
    remove a year's official schedule."""
    router = APIRouter(tags=["calendar"])

    @router.get(
        "/v1/calendar/{year}",
        response_model=YearSchedule,
        summary="The effective holiday schedule of a year (holidays and make-up working days)",
        responses=_AUTH_RESPONSES,
    )
    async def get_calendar(
        _: Caller, year: YearPath, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> YearSchedule:
        try:
            doc = await find_schedule(calendar_db(rt), year)
        except PyMongoError as exc:
            raise _unavailable(rt, exc) from exc
        return _effective(doc, year)

    @router.put(
        "/v1/calendar/{year}",
        response_model=YearSchedule,
        summary="Load (or replace) the official holiday schedule of a year (operators)",
        responses={
            **_AUTH_RESPONSES,
            400: {"description": "The body is not JSON (UTF-8, no key twice, not too deep)"},
            403: {"description": "The key lacks the operator role"},
            413: {"description": f"Body larger than {MAX_SCHEDULE_BYTES} bytes"},
            415: {"description": "Not application/json"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ScheduleIn.model_json_schema()}},
            }
        },
    )
    async def put_calendar(
        who: Operator,
        year: YearPath,
        request: Request,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        cache: Annotated[CalendarCache, Depends(calendar_cache)],
    ) -> YearSchedule:
        body = await read_json_body(request, ScheduleIn, limit=MAX_SCHEDULE_BYTES, what="schedule")
        holidays, workdays, ignored = check_schedule(year, body)
        try:
            doc = await store_schedule(
                calendar_db(rt),
                year,
                holidays=holidays,
                workdays=workdays,
                loaded_by=who.key_id,
                note=body.note,
            )
        except PyMongoError as exc:
            raise _unavailable(rt, exc) from exc
        cache.invalidate()
        log.info(
            "holiday schedule loaded",
            extra={"year": year, "key_id": who.key_id, "holidays": len(holidays)},
        )
        schedule = _effective(doc, year)
        schedule.ignored_workdays = ignored
        return schedule

    @router.delete(
        "/v1/calendar/{year}",
        response_model=YearSchedule,
        summary="Remove the operator-loaded schedule of a year (operators); answers what remains",
        responses={
            **_AUTH_RESPONSES,
            403: {"description": "The key lacks the operator role"},
            404: {"description": "No operator-loaded schedule for that year"},
        },
    )
    async def delete_calendar(
        who: Operator,
        year: YearPath,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        cache: Annotated[CalendarCache, Depends(calendar_cache)],
    ) -> YearSchedule:
        try:
            removed = await delete_schedule(calendar_db(rt), year)
        except PyMongoError as exc:
            raise _unavailable(rt, exc) from exc
        if not removed:
            raise Problem(404, f"No operator-loaded holiday schedule for {year}.", kind="not-found")
        cache.invalidate()
        log.info("holiday schedule removed", extra={"year": year, "key_id": who.key_id})
        return _effective(None, year)

    return router
