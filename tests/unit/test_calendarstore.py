"""The pure parts of the calendar store: schedule checks, stored documents, effective schedules."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from fazhi.rules.workdays import DaySource, WorkCalendar
from fazhi.store.calendar import CalendarCache, calendar_from_documents
from fazhi.web.calendar import ScheduleIn, check_schedule, year_schedule
from fazhi.web.problems import Problem


def schedule(**fields: object) -> ScheduleIn:
    return ScheduleIn.model_validate(fields)


def test_check_schedule_sorts_dedupes_and_ignores_weekday_make_up_days() -> None:
    body = schedule(
        holidays=["2027-10-02", "2027-10-01", "2027-10-01"],
        workdays=["2027-10-09", "2027-09-29", "2027-09-26"],
    )
    holidays, workdays, ignored = check_schedule(2027, body)
    assert holidays == [date(2027, 10, 1), date(2027, 10, 2)]
    assert workdays == [date(2027, 9, 26), date(2027, 10, 9)]
    assert ignored == [date(2027, 9, 29)]  # a Wednesday: a working day anyway


def test_check_schedule_names_every_bad_field() -> None:
    body = schedule(holidays=["2027-10-01", "2028-10-01"], workdays=["2026-12-26", "2027-10-01"])
    with pytest.raises(Problem) as raised:
        check_schedule(2027, body)
    problem = raised.value
    assert problem.status == 422
    assert problem.extensions["errors"] == [
        {"field": "holidays.1", "message": "2028-10-01 is not in 2027"},
        {"field": "workdays.0", "message": "2026-12-26 is not in 2027"},
        {"field": "workdays.1", "message": "2027-10-01 is also listed in holidays"},
    ]
    assert "holidays.1, workdays.0, workdays.1" in problem.detail


@pytest.mark.parametrize(
    "value", ["2027-10-01T00:00:00", "20271001", "2027-1-1", "2027-02-30", 1822924800, None]
)
def test_schedule_dates_must_be_iso_dates(value: object) -> None:
    with pytest.raises(ValidationError):
        schedule(holidays=[value])


def test_schedule_refuses_unknown_keys_and_empty_holidays() -> None:
    with pytest.raises(ValidationError):
        schedule(holidays=["2027-10-01"], holiday=["2027-10-02"])
    with pytest.raises(ValidationError):
        schedule(holidays=[])


def test_documents_become_overrides_and_bad_ones_are_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    docs: list[dict[str, Any]] = [
        {"_id": 2027, "holidays": ["2027-10-01"], "workdays": ["2027-10-09", "2027-10-08"]},
        {"_id": "2028", "holidays": ["2028-10-02"], "workdays": []},
        {"_id": 2029, "holidays": ["2030-01-01"], "workdays": []},
        {"_id": 2031, "holidays": ["not a date"]},
    ]
    with caplog.at_level(logging.WARNING, logger="fazhi.store.calendar"):
        calendar = calendar_from_documents(docs)
    assert calendar.to_mapping() == {
        # The weekday 10-08 listed as a make-up day is a no-op, so it is not loaded.
        "2027": {"holidays": ["2027-10-01"], "workdays": ["2027-10-09"]}
    }
    assert len([r for r in caplog.records if "skipping malformed" in r.getMessage()]) == 3


def test_year_schedule_of_an_override_lists_only_the_unusual_days() -> None:
    calendar = WorkCalendar()
    calendar.load_schedule(
        2027,
        holidays=[date(2027, 10, d) for d in range(1, 8)],
        workdays=[date(2027, 9, 26), date(2027, 10, 9)],
    )
    effective = year_schedule(calendar, 2027)
    assert (effective.source, effective.provisional) == (DaySource.OVERRIDE, False)
    assert [d.date.isoformat() for d in effective.days] == [
        "2027-09-26",
        *[f"2027-10-0{d}" for d in range(1, 8)],
        "2027-10-09",
    ]
    assert (effective.holidays, effective.workdays) == (5, 2)
    assert all(d.source is DaySource.OVERRIDE for d in effective.days)


def test_year_schedule_of_official_and_provisional_years() -> None:
    official = year_schedule(WorkCalendar(), 2026)
    assert (official.source, official.provisional) == (DaySource.OFFICIAL, False)
    national_day = [d for d in official.days if d.reason == "holiday: 国庆节 National Day"]
    assert [d.date.day for d in national_day] == list(range(1, 8))

    provisional = year_schedule(WorkCalendar(), 2030)
    assert (provisional.source, provisional.provisional) == (DaySource.WEEKENDS_ONLY, True)
    assert provisional.days == []


def test_cache_starts_with_the_official_calendar() -> None:
    cache = CalendarCache()
    assert not cache.loaded
    assert cache.calendar.is_provisional(2030)
    assert not cache.calendar.is_provisional(2026)
    with pytest.raises(ValueError, match="must be >= 0"):
        CalendarCache(max_age_s=-1)
