"""The working-day calendar: operator schedules, the official 2026 schedule, provisional years."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from chinese_calendar.constants import holidays as OFFICIAL_HOLIDAYS

from fazhi.rules.workdays import DayInfo, DaySource, WorkCalendar, default_calendar

# The first year the installed chinesecalendar has no official schedule for.
FIRST_UNPUBLISHED_YEAR = max(OFFICIAL_HOLIDAYS).year + 1

# The official 2026 schedule published by the State Council General Office, as
# chinesecalendar ships it: rest days, and 调休 make-up working days.
OFFICIAL_2026 = [
    # (day, working, reason)
    (date(2026, 1, 1), False, "holiday: 元旦 New Year's Day"),
    (date(2026, 1, 3), False, "holiday: 元旦 New Year's Day"),
    (date(2026, 1, 4), True, "make-up working day (调休) for 元旦 New Year's Day"),
    (date(2026, 2, 14), True, "make-up working day (调休) for 春节 Spring Festival"),
    (date(2026, 2, 15), False, "holiday: 春节 Spring Festival"),
    (date(2026, 2, 17), False, "holiday: 春节 Spring Festival"),
    (date(2026, 2, 23), False, "holiday: 春节 Spring Festival"),
    (date(2026, 2, 24), True, "working day"),
    (date(2026, 2, 28), True, "make-up working day (调休) for 春节 Spring Festival"),
    (date(2026, 4, 6), False, "holiday: 清明 Tomb-sweeping Day"),
    (date(2026, 5, 1), False, "holiday: 劳动节 Labour Day"),
    (date(2026, 5, 5), False, "holiday: 劳动节 Labour Day"),
    (date(2026, 5, 6), True, "working day"),
    (date(2026, 5, 9), True, "make-up working day (调休) for 劳动节 Labour Day"),
    (date(2026, 5, 10), False, "weekend"),
    (date(2026, 6, 19), False, "holiday: 端午 Dragon Boat Festival"),
    (date(2026, 9, 20), True, "make-up working day (调休) for 国庆节 National Day"),
    (date(2026, 9, 25), False, "holiday: 中秋 Mid-autumn Festival"),
    (date(2026, 10, 1), False, "holiday: 国庆节 National Day"),
    (date(2026, 10, 4), False, "holiday: 国庆节 National Day"),
    (date(2026, 10, 7), False, "holiday: 国庆节 National Day"),
    (date(2026, 10, 8), True, "working day"),
    (date(2026, 10, 10), True, "make-up working day (调休) for 国庆节 National Day"),
    (date(2026, 10, 11), False, "weekend"),
]


@pytest.mark.parametrize(("day", "working", "reason"), OFFICIAL_2026)
def test_official_2026_schedule_marks_holidays_and_make_up_days(
    day: date, working: bool, reason: str
) -> None:
    info = WorkCalendar().day_info(day)
    assert info == DayInfo(day, working, reason, provisional=False, source=DaySource.OFFICIAL)
    assert WorkCalendar().is_working_day(day) is working


def test_whole_national_day_week_2026_is_rest_and_the_saturday_after_is_worked() -> None:
    cal = WorkCalendar()
    assert [cal.is_working_day(date(2026, 10, d)) for d in range(1, 12)] == [
        *[False] * 7,
        True,
        True,
        True,  # 10-10 is a Saturday make-up day
        False,
    ]


def test_repeated_lookups_give_the_same_answer() -> None:
    cal = WorkCalendar()
    assert cal.day_info(date(2026, 10, 1)) == cal.day_info(date(2026, 10, 1))


def test_year_without_official_schedule_is_weekends_only_and_provisional() -> None:
    cal = WorkCalendar()
    assert cal.is_provisional(2031)
    assert cal.is_provisional(FIRST_UNPUBLISHED_YEAR)
    assert not cal.is_provisional(FIRST_UNPUBLISHED_YEAR - 1)
    assert not cal.is_provisional(2026)
    assert not cal.is_provisional(2004)
    assert cal.is_provisional(2003)
    saturday = cal.day_info(date(2031, 1, 4))
    assert saturday.working is False
    assert saturday.provisional is True
    assert saturday.source == "weekends-only"
    assert saturday.reason == "weekend (provisional: no official schedule for 2031)"
    new_year = cal.day_info(date(2031, 1, 1))
    assert new_year.working is True
    assert new_year.reason == "working day (provisional: no official schedule for 2031)"


def test_loading_a_schedule_makes_a_missing_year_official() -> None:
    cal = WorkCalendar()
    cal.load_schedule(2031, holidays=[date(2031, 1, 1)], workdays=[date(2031, 1, 4)])
    assert not cal.is_provisional(2031)
    assert cal.day_info(date(2031, 1, 1)) == DayInfo(
        date(2031, 1, 1),
        working=False,
        reason="holiday (operator schedule for 2031)",
        provisional=False,
        source=DaySource.OVERRIDE,
    )
    assert cal.day_info(date(2031, 1, 4)).reason == (
        "make-up working day (调休) (operator schedule for 2031)"
    )
    assert cal.is_working_day(date(2031, 1, 4))
    assert cal.day_info(date(2031, 1, 5)).reason == "weekend"
    assert cal.day_info(date(2031, 1, 6)).reason == "working day"
    assert cal.is_provisional(2032)


def test_override_schedule_wins_over_the_official_one() -> None:
    cal = WorkCalendar()
    cal.load_schedule(2026, holidays=[date(2026, 3, 10)], workdays=[date(2026, 10, 1)])
    assert not cal.is_working_day(date(2026, 3, 10))
    assert cal.day_info(date(2026, 3, 10)).source == "override"
    assert cal.is_working_day(date(2026, 10, 1))
    # Everything the override does not list falls back to weekends-only, not to the official table.
    assert cal.is_working_day(date(2026, 10, 2))
    assert not cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_provisional(2026)


def test_reloading_a_year_replaces_its_schedule() -> None:
    cal = WorkCalendar()
    cal.load_schedule(2031, holidays=[date(2031, 1, 1)], workdays=[])
    cal.load_schedule(2031, holidays=[date(2031, 1, 2)], workdays=[])
    assert cal.is_working_day(date(2031, 1, 1))
    assert not cal.is_working_day(date(2031, 1, 2))


def test_schedule_rejects_dates_of_another_year() -> None:
    with pytest.raises(ValueError, match="another year"):
        WorkCalendar().load_schedule(2031, holidays=[date(2030, 12, 31)], workdays=[])


def test_schedule_rejects_a_day_that_is_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar().load_schedule(2031, holidays=[date(2031, 1, 1)], workdays=[date(2031, 1, 1)])


def test_datetimes_are_refused_so_callers_pick_the_china_local_date() -> None:
    cal = WorkCalendar()
    with pytest.raises(TypeError, match="China-local"):
        cal.day_info(datetime(2026, 10, 1, 20, 0))
    with pytest.raises(TypeError):
        cal.load_schedule(2031, holidays=[datetime(2031, 1, 1)], workdays=[])


def test_schedules_round_trip_through_a_json_friendly_mapping() -> None:
    cal = WorkCalendar()
    cal.load_schedule(
        2031,
        holidays=[date(2031, 10, 2), date(2031, 10, 1)],
        workdays=[date(2031, 9, 28)],
    )
    cal.load_schedule(2030, holidays=[], workdays=[])
    mapping = cal.to_mapping()
    assert mapping == {
        "2030": {"holidays": [], "workdays": []},
        "2031": {"holidays": ["2031-10-01", "2031-10-02"], "workdays": ["2031-09-28"]},
    }
    restored = WorkCalendar.from_mapping(json.loads(json.dumps(mapping)))
    assert restored.to_mapping() == mapping
    assert not restored.is_working_day(date(2031, 10, 1))
    assert restored.is_working_day(date(2031, 9, 28))


def test_mapping_may_omit_a_list() -> None:
    cal = WorkCalendar.from_mapping({"2031": {"holidays": ["2031-10-01"]}})
    assert cal.to_mapping() == {"2031": {"holidays": ["2031-10-01"], "workdays": []}}


def test_mapping_with_unknown_keys_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown schedule key"):
        WorkCalendar.from_mapping({"2031": {"holiday": ["2031-10-01"]}})


def test_next_working_day_skips_the_national_day_holiday() -> None:
    cal = WorkCalendar()
    assert cal.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert cal.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)  # make-up Saturday
    assert cal.next_working_day(date(2026, 10, 10)) == date(2026, 10, 12)


def test_add_working_days_does_not_count_the_start_day() -> None:
    cal = WorkCalendar()
    assert cal.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)


def test_add_working_days_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        WorkCalendar().add_working_days(date(2026, 1, 5), -1)


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()


def test_importing_creates_no_default_calendar() -> None:
    code = "import fazhi.rules.clocks, fazhi.rules.workdays as w; print(w.default_calendar.cache_info().currsize)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0"
