"""The holiday-schedule routes (`/v1/calendar/{year}`): what an operator loads, read back with each day's reason, and the calendar a request's deadlines use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pymongo.errors import PyMongoError

from fazhi.contracts.models import SHORT_TEXT_PATTERN
from fazhi.rules.workdays import DaySource, WorkCalendar
from fazhi.store.calendar import (
    _ONE_DAY,
    _ORDINARY,
    MAX_YEAR,
    MIN_YEAR,
    CalendarCache,
    Database,
    _is_weekend,
    calendar_from_documents,
    delete_schedule,
    find_schedule,
    log,
    store_schedule,
)
from fazhi.web.body import read_json_body
from fazhi.web.problems import Problem, invalid_fields
from fazhi.web.service import Caller, Operator, ServiceRuntime, runtime

_MAX_DATES = 366
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
