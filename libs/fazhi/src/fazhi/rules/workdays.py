"""China's working-day calendar: operator schedules, then the official schedule
(``chinesecalendar``), then a provisional weekends-only fallback."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import chinese_calendar

__all__ = [
    "DayInfo",
    "DaySource",
    "WorkCalendar",
    "default_calendar",
]

_ONE_DAY = timedelta(days=1)
_SCHEDULE_KEYS = frozenset({"holidays", "workdays"})
_HOLIDAY_CHINESE: Mapping[str, str] = {h.value: h.chinese for h in chinese_calendar.Holiday}


class DaySource(StrEnum):
    OVERRIDE = "override"
    OFFICIAL = "official"
    WEEKENDS_ONLY = "weekends-only"


@dataclass(frozen=True)
class DayInfo:
    """Whether a day is a working day, and why."""

    date: date
    working: bool
    reason: str
    provisional: bool
    source: DaySource


@dataclass(frozen=True)
class _Schedule:
    holidays: frozenset[date]
    workdays: frozenset[date]


def _require_date(d: date) -> date:
    # A datetime would silently carry a UTC wall-clock day into a Beijing-time
    # calendar; callers must pick the China-local date themselves.
    if isinstance(d, datetime):
        raise TypeError(f"expected a date, got a datetime ({d!r}); convert to the China-local date")
    return d


def _holiday_label(name: str) -> str:
    chinese = _HOLIDAY_CHINESE.get(name)
    return f"{chinese} {name}" if chinese else name


class WorkCalendar:
    """Decides working days. Schedules loaded by an operator win over the official
    schedule; years with neither are weekends-only and marked provisional."""

    def __init__(self) -> None:
        self._overrides: dict[int, _Schedule] = {}
        # The official schedule never changes within a process, so lookups are memoised.
        self._official: dict[date, DayInfo | None] = {}

    # -- schedules ---------------------------------------------------------------

    def load_schedule(self, year: int, holidays: Iterable[date], workdays: Iterable[date]) -> None:
        """Install (or replace) the schedule for ``year``: ``holidays`` are rest days,
        ``workdays`` are 调休 make-up working days, every other day is weekends-only."""
        rest = frozenset(_require_date(d) for d in holidays)
        work = frozenset(_require_date(d) for d in workdays)
        stray = sorted(d for d in rest | work if d.year != year)
        if stray:
            raise ValueError(f"schedule for {year} lists dates of another year: {stray[0]}")
        both = sorted(rest & work)
        if both:
            raise ValueError(f"{both[0]} is listed both as a holiday and as a working day")
        self._overrides[year] = _Schedule(holidays=rest, workdays=work)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, Iterable[str]]]) -> WorkCalendar:
        """Build a calendar from ``to_mapping()`` output:
        ``{"2027": {"holidays": ["2027-10-01", ...], "workdays": [...]}}``."""
        calendar = cls()
        for year_key, schedule in data.items():
            unknown = sorted(set(schedule) - _SCHEDULE_KEYS)
            if unknown:
                raise ValueError(f"unknown schedule key(s) for {year_key}: {', '.join(unknown)}")
            calendar.load_schedule(
                int(year_key),
                holidays=[date.fromisoformat(s) for s in schedule.get("holidays", ())],
                workdays=[date.fromisoformat(s) for s in schedule.get("workdays", ())],
            )
        return calendar

    def to_mapping(self) -> dict[str, dict[str, list[str]]]:
        """The operator-loaded schedules as a JSON-friendly dict (keys are year strings)."""
        return {
            str(year): {
                "holidays": [d.isoformat() for d in sorted(s.holidays)],
                "workdays": [d.isoformat() for d in sorted(s.workdays)],
            }
            for year, s in sorted(self._overrides.items())
        }

    # -- queries -----------------------------------------------------------------

    def is_provisional(self, year: int) -> bool:
        """True when ``year`` has neither an operator schedule nor an official one."""
        if year in self._overrides:
            return False
        return self._official_info(date(year, 1, 1)) is None

    def day_info(self, d: date) -> DayInfo:
        _require_date(d)
        schedule = self._overrides.get(d.year)
        if schedule is not None:
            return self._override_info(d, schedule)
        official = self._official_info(d)
        if official is not None:
            return official
        weekend = d.weekday() >= 5
        note = f"(provisional: no official schedule for {d.year})"
        return DayInfo(
            date=d,
            working=not weekend,
            reason=f"weekend {note}" if weekend else f"working day {note}",
            provisional=True,
            source=DaySource.WEEKENDS_ONLY,
        )

    def is_working_day(self, d: date) -> bool:
        return self.day_info(d).working

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _require_date(d) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The date on which the ``n``-th working day after ``start`` falls; ``start``
        itself is not counted, so ``n == 0`` returns ``start``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = _require_date(start)
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    # -- internals ---------------------------------------------------------------

    @staticmethod
    def _override_info(d: date, schedule: _Schedule) -> DayInfo:
        note = f"(operator schedule for {d.year})"
        if d in schedule.holidays:
            working, reason = False, f"holiday {note}"
        elif d in schedule.workdays:
            working, reason = True, f"make-up working day (调休) {note}"
        elif d.weekday() >= 5:
            working, reason = False, "weekend"
        else:
            working, reason = True, "working day"
        return DayInfo(d, working, reason, provisional=False, source=DaySource.OVERRIDE)

    def _official_info(self, d: date) -> DayInfo | None:
        if d in self._official:
            return self._official[d]
        info: DayInfo | None
        try:
            detail: tuple[bool, str | None] = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            info = None
        else:
            resting, name = detail
            if name is None:
                reason = "weekend" if resting else "working day"
            elif resting:
                reason = f"holiday: {_holiday_label(name)}"
            else:
                reason = f"make-up working day (调休) for {_holiday_label(name)}"
            info = DayInfo(d, not resting, reason, provisional=False, source=DaySource.OFFICIAL)
        self._official[d] = info
        return info


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkCalendar:
    """The process-wide calendar; schedules loaded into it apply to every default clock."""
    return WorkCalendar()
