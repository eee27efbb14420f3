"""Statutory clocks: the rule table, due dates over the 2026 holidays, pauses, restarts,
extensions, status, explanations, and properties over 2004-2030."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from chinese_calendar.constants import holidays as OFFICIAL_HOLIDAYS
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.rules.clocks import (
    REMINDER_DAYS,
    Clock,
    ClockEvent,
    ClockStatus,
    EventKind,
    StepKind,
    readme_example,
    replay_clock,
    start_clock,
)
from fazhi.rules.statutes import RULES, ClockError, DayUnit, get_rule
from fazhi.rules.workdays import WorkCalendar, default_calendar

D = date
ONE = timedelta(days=1)
# The first year the installed chinesecalendar has no official schedule for.
FIRST_UNPUBLISHED_YEAR = max(OFFICIAL_HOLIDAYS).year + 1


def require_unpublished(year: int) -> None:
    """Fail (never skip) a test whose made-up dates need `year` to have no official schedule."""
    if year < FIRST_UNPUBLISHED_YEAR:
        pytest.fail(
            f"this test needs {year} to have no official holiday schedule, but the installed "
            f"chinesecalendar covers up to {FIRST_UNPUBLISHED_YEAR - 1}: "
            "move its dates to a year it does not cover"
        )


# --------------------------------------------------------------------------- the rule table

REQUIRED_RULES = {
    # name: (days, unit, extension_days, article)
    "disclosure.reply": (20, DayUnit.WORKING, 20, "第三十三条第二款"),
    "disclosure.correction": (7, DayUnit.WORKING, None, "第三十条"),
    "disclosure.third_party": (15, DayUnit.WORKING, None, "第三十二条"),
    "publication.proactive": (20, DayUnit.WORKING, None, "第二十六条"),
    "reconsideration.acceptance": (5, DayUnit.WORKING, None, "第三十条第一款、第八十八条第二款"),
    "reconsideration.decision.general": (60, DayUnit.CALENDAR, 30, "第六十二条第一款"),
    "reconsideration.decision.simplified": (30, DayUnit.CALENDAR, None, "第六十二条第二款"),
    "petition.acceptance": (15, DayUnit.CALENDAR, None, "第二十三条第二款、第三款"),
    "petition.handling": (60, DayUnit.CALENDAR, 30, "第三十四条"),
    "petition.review": (30, DayUnit.CALENDAR, None, "第三十五条"),
    "petition.rereview": (30, DayUnit.CALENDAR, None, "第三十六条第一款"),
    "litigation.defence": (15, DayUnit.CALENDAR, None, "第六十七条第一款"),
    "litigation.reply": (60, DayUnit.CALENDAR, None, "第九十六条第（四）项"),
    "reconsideration.execution": (60, DayUnit.CALENDAR, None, "第七十七条、第七十六条"),
    "decision.public_comment": (30, DayUnit.CALENDAR, None, "第十五条第一款"),
}


@pytest.mark.parametrize("name", sorted(REQUIRED_RULES))
def test_rule_table_holds_the_statutory_periods(name: str) -> None:
    days, unit, extension, article = REQUIRED_RULES[name]
    rule = RULES[name]
    assert rule.name == name
    assert (rule.days, rule.unit, rule.extension_days, rule.article) == (
        days,
        unit,
        extension,
        article,
    )
    assert rule.law.endswith("）")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.title)
    assert any("a" <= ch <= "z" for ch in rule.title)


def test_rule_table_has_consistent_entries() -> None:
    for name, rule in RULES.items():
        assert name == rule.name
        assert rule.days > 0
        assert rule.extension_days is None or rule.extension_days > 0
        assert rule.article.startswith("第")


def test_public_comment_is_a_minimum_period() -> None:
    assert RULES["decision.public_comment"].minimum
    assert not RULES["disclosure.reply"].minimum


def test_rule_table_cannot_be_changed_at_runtime() -> None:
    with pytest.raises(TypeError):
        RULES["disclosure.reply"] = RULES["disclosure.correction"]  # type: ignore[index]


def test_unknown_rule_name_lists_the_known_rules() -> None:
    with pytest.raises(ClockError, match=r"unknown clock rule 'disclosure\.answer'") as err:
        start_clock("disclosure.answer", D(2026, 3, 2))
    assert "disclosure.reply" in str(err.value)
    assert "petition.rereview" in str(err.value)
    assert isinstance(err.value, ValueError)
    with pytest.raises(ClockError):
        get_rule("nope")
    assert get_rule("disclosure.reply") is RULES["disclosure.reply"]


# --------------------------------------------------------------------------- 2026 due dates

DUE_2026 = [
    # (rule, started on, due on, why)
    (
        "disclosure.reply",
        D(2026, 9, 25),
        D(2026, 10, 29),
        "Mid-autumn + National Day; 10-10 worked",
    ),
    ("disclosure.reply", D(2026, 2, 10), D(2026, 3, 16), "Spring Festival; 02-14 and 02-28 worked"),
    ("disclosure.correction", D(2026, 9, 17), D(2026, 9, 28), "09-20 Sunday worked, Mid-autumn"),
    ("disclosure.third_party", D(2026, 4, 28), D(2026, 5, 21), "Labour Day; 05-09 worked"),
    ("publication.proactive", D(2026, 1, 5), D(2026, 2, 2), "ordinary weeks"),
    ("reconsideration.acceptance", D(2026, 4, 30), D(2026, 5, 11), "Labour Day; 05-09 worked"),
    ("reconsideration.reply.general", D(2026, 9, 24), D(2026, 10, 15), "Mid-autumn + National"),
    ("decision.legality_review", D(2026, 2, 11), D(2026, 2, 27), "Spring Festival; 02-14 worked"),
    ("petition.transfer_objection", D(2026, 1, 1), D(2026, 1, 8), "New Year; 01-04 Sunday worked"),
    ("petition.acceptance", D(2026, 9, 19), D(2026, 10, 8), "ends 10-04 in National Day"),
    ("petition.acceptance", D(2026, 9, 25), D(2026, 10, 10), "ends on the make-up Saturday"),
    ("petition.acceptance", D(2026, 3, 7), D(2026, 3, 23), "ends on a Sunday"),
    ("litigation.defence", D(2026, 2, 3), D(2026, 2, 24), "ends 02-18 in Spring Festival"),
    ("petition.review", D(2026, 4, 1), D(2026, 5, 6), "ends 05-01 in Labour Day"),
    ("petition.handling", D(2026, 8, 2), D(2026, 10, 8), "60 days end 10-01"),
    ("reconsideration.decision.general", D(2026, 8, 2), D(2026, 10, 8), "60 days end 10-01"),
    ("reconsideration.decision.simplified", D(2026, 9, 1), D(2026, 10, 8), "30 days end 10-01"),
    ("decision.public_comment", D(2026, 9, 1), D(2026, 10, 8), "earliest end moved past 10-01"),
]


@pytest.mark.parametrize(("rule", "start", "due", "why"), DUE_2026)
def test_due_dates_follow_the_official_2026_schedule(
    rule: str, start: date, due: date, why: str
) -> None:
    clock = start_clock(rule, start, calendar=WorkCalendar())
    assert clock.due_on == due, why
    assert clock.provisional is False


def test_disclosure_reply_skips_national_day_holidays_and_counts_the_make_up_saturday() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))
    steps = {s.date: s for s in clock.explain().steps if s.kind is StepKind.DAY}
    for day in range(1, 8):
        assert not steps[D(2026, 10, day)].counted
        assert steps[D(2026, 10, day)].reason == "holiday: 国庆节 National Day"
    assert steps[D(2026, 10, 10)].counted
    assert steps[D(2026, 10, 10)].reason.startswith("make-up working day (调休)")
    assert not steps[D(2026, 10, 11)].counted


def test_calendar_day_clock_ending_in_national_day_moves_to_first_working_day_after() -> None:
    clock = start_clock("litigation.defence", D(2026, 9, 19))
    assert clock.due_on == D(2026, 10, 8)
    steps = clock.explain().steps
    last_counted = [s for s in steps if s.counted][-1]
    assert last_counted.date == D(2026, 10, 4)
    assert "moved to next working day" in last_counted.reason
    moved = [s for s in steps if D(2026, 10, 4) < s.date < D(2026, 10, 8)]
    assert all("period ends on a rest day: moved to next working day" in s.reason for s in moved)
    assert steps[-1].date == D(2026, 10, 8)
    assert "due date" in steps[-1].reason


def test_calendar_day_clock_counts_holidays_inside_the_period() -> None:
    # 15 days from 09-20 end on 10-05 even though 10-01..10-05 are holidays; then moved to 10-08.
    assert start_clock("petition.acceptance", D(2026, 9, 20)).due_on == D(2026, 10, 8)
    # 15 days from 09-30 end on 10-15, a plain Thursday: the week of holidays still counted.
    assert start_clock("petition.acceptance", D(2026, 9, 30)).due_on == D(2026, 10, 15)


def test_start_day_is_not_counted() -> None:
    clock = start_clock("reconsideration.acceptance", D(2026, 3, 2))  # Monday
    assert clock.due_on == D(2026, 3, 9)
    first = clock.explain().steps[0]
    assert (first.date, first.counted) == (D(2026, 3, 2), False)
    assert "起算日不计入" in first.reason


def test_clock_refuses_datetimes() -> None:
    with pytest.raises(TypeError):
        start_clock("disclosure.reply", datetime(2026, 3, 2, 9, 0))


# --------------------------------------------------------------------------- provisional years


def test_clock_in_year_without_schedule_is_provisional_weekends_only() -> None:
    cal = WorkCalendar()
    clock = start_clock("disclosure.reply", D(2031, 3, 3), calendar=cal)
    assert clock.provisional
    assert clock.due_on == D(2031, 3, 31)  # 4 plain weeks
    assert clock.explain().provisional_years == (2031,)
    assert "暂定 Provisional" in clock.explain().to_text()


def test_loading_the_schedule_makes_a_provisional_clock_official() -> None:
    cal = WorkCalendar()
    clock = start_clock("disclosure.reply", D(2031, 3, 3), calendar=cal)
    cal.load_schedule(2031, holidays=[D(2031, 3, 10), D(2031, 3, 11)], workdays=[])
    # A Clock is a snapshot: it only changes when recomputed.
    assert clock.provisional
    again = clock.recompute()
    assert not again.provisional
    assert again.due_on == D(2031, 4, 2)
    assert again == clock  # same rule, start and events


def test_recompute_can_switch_calendars() -> None:
    cal = WorkCalendar()
    cal.load_schedule(2026, holidays=[D(2026, 3, 3)], workdays=[])
    clock = start_clock("reconsideration.acceptance", D(2026, 3, 2))
    assert clock.due_on == D(2026, 3, 9)
    assert clock.recompute(calendar=cal).due_on == D(2026, 3, 10)


def test_override_schedule_wins_over_chinesecalendar_for_clocks() -> None:
    cal = WorkCalendar()
    cal.load_schedule(2026, holidays=[], workdays=[])  # pretend 2026 had no holidays
    assert start_clock("disclosure.reply", D(2026, 9, 25), calendar=cal).due_on == D(2026, 10, 23)


def test_provisional_flag_follows_the_days_the_result_depends_on() -> None:
    last = FIRST_UNPUBLISHED_YEAR - 1  # December of the last year with an official schedule
    # A calendar-day period depends on the schedule only at its end.
    assert not start_clock("petition.acceptance", D(last, 12, 1)).provisional
    assert start_clock("petition.acceptance", D(last, 12, 20)).provisional
    # A working-day period depends on every day it counts.
    assert start_clock("disclosure.reply", D(last, 12, 10)).provisional
    assert not start_clock("disclosure.reply", D(last, 10, 10)).provisional


# --------------------------------------------------------------------------- about to pass


def test_a_clock_is_about_to_pass_from_three_days_before_its_due_date_to_that_day() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))  # due Thursday 2026-10-29
    due = clock.due_on
    assert REMINDER_DAYS == 3
    assert [clock.days_left(due - timedelta(days=n)) for n in (5, 4, 3, 2, 1, 0)] == [
        None,
        None,
        3,
        2,
        1,
        0,
    ]
    assert clock.days_left(due + timedelta(days=1)) is None  # overdue, no longer about to pass
    assert clock.pause(on=due - timedelta(days=3)).days_left(due - timedelta(days=2)) is None


# --------------------------------------------------------------------------- pause / resume


def test_pause_suspends_the_days_after_it_until_the_resume_day_inclusive() -> None:
    start = D(2026, 3, 2)
    plain = start_clock("disclosure.reply", start)
    paused = plain.pause(on=D(2026, 3, 5))
    assert paused.paused_on == D(2026, 3, 5)
    assert paused.due_on == plain.due_on  # earliest possible while paused
    resumed = paused.resume(on=D(2026, 3, 12))
    assert resumed.paused_on is None
    # 03-06 and 03-09..03-12 (5 working days) did not count.
    assert resumed.due_on == default_calendar().add_working_days(plain.due_on, 5)
    steps = {s.date: s for s in resumed.explain().steps if s.kind is StepKind.DAY}
    assert steps[D(2026, 3, 5)].counted
    assert steps[D(2026, 3, 12)].reason == "paused (暂停计算)"
    assert steps[D(2026, 3, 13)].counted


def test_third_party_consultation_pause_on_a_calendar_day_clock() -> None:
    clock = start_clock("petition.rereview", D(2026, 3, 2)).pause(on=D(2026, 3, 10))
    clock = clock.resume(on=D(2026, 3, 20))  # hearing time does not count (art. 36)
    # 03-11..03-20 do not count: 30 days end 04-11, a Saturday, so the period ends 04-13.
    assert clock.due_on == D(2026, 4, 13)


def test_pause_and_resume_on_the_same_day_changes_nothing() -> None:
    plain = start_clock("disclosure.reply", D(2026, 3, 2))
    assert plain.pause(on=D(2026, 3, 4)).resume(on=D(2026, 3, 4)).due_on == plain.due_on


def test_clock_can_be_paused_twice_in_turn() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2))
    clock = clock.pause(on=D(2026, 3, 3)).resume(on=D(2026, 3, 4))
    clock = clock.pause(on=D(2026, 3, 5)).resume(on=D(2026, 3, 6))
    assert clock.due_on == default_calendar().add_working_days(D(2026, 3, 2), 22)
    assert [e.kind for e in clock.events] == [
        EventKind.START,
        EventKind.PAUSE,
        EventKind.RESUME,
        EventKind.PAUSE,
        EventKind.RESUME,
    ]


def test_pausing_a_paused_clock_is_an_error() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2)).pause(on=D(2026, 3, 3))
    with pytest.raises(ClockError, match="paused since 2026-03-03"):
        clock.pause(on=D(2026, 3, 4))


def test_resuming_a_running_clock_is_an_error() -> None:
    with pytest.raises(ClockError, match="not paused"):
        start_clock("disclosure.reply", D(2026, 3, 2)).resume(on=D(2026, 3, 3))


def test_pausing_after_the_period_ended_is_an_error() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2))
    with pytest.raises(ClockError, match="already ended"):
        clock.pause(on=clock.due_on + ONE)


def test_events_must_be_in_date_order() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2)).pause(on=D(2026, 3, 5))
    with pytest.raises(ClockError, match="last event was on 2026-03-05"):
        clock.resume(on=D(2026, 3, 4))
    with pytest.raises(ClockError, match="last event"):
        start_clock("disclosure.reply", D(2026, 3, 2)).pause(on=D(2026, 3, 1))


def test_operations_leave_the_original_clock_unchanged() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2))
    clock.pause(on=D(2026, 3, 3))
    clock.extend(on=D(2026, 3, 3))
    assert clock.paused_on is None
    assert not clock.extended
    assert len(clock.events) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        clock.due_on = D(2030, 1, 1)  # type: ignore[misc]


# --------------------------------------------------------------------------- restart (补正)


def test_restart_counts_again_from_the_corrected_request() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 1))
    restarted = clock.restart(on=D(2026, 9, 8))
    assert restarted.started_on == D(2026, 9, 8)
    assert restarted.due_on == start_clock("disclosure.reply", D(2026, 9, 8)).due_on
    assert restarted.due_on == D(2026, 10, 12)
    assert restarted.events[0].on == D(2026, 9, 1)
    text = restarted.explain().to_text()
    assert "restarted (补正)" in text
    assert "previously started 2026-09-01" in text


def test_restart_drops_the_previous_pause_and_extension() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2)).extend(on=D(2026, 3, 3))
    clock = clock.pause(on=D(2026, 3, 4)).restart(on=D(2026, 3, 16))
    assert clock.paused_on is None
    assert not clock.extended
    assert clock.due_on == start_clock("disclosure.reply", D(2026, 3, 16)).due_on
    assert clock.extend(on=D(2026, 3, 17)).extended  # the new period may be extended again


# --------------------------------------------------------------------------- extension


def test_extension_adds_the_statutory_working_days_once() -> None:
    start = D(2026, 9, 25)
    clock = start_clock("disclosure.reply", start).extend(on=D(2026, 10, 20))
    assert clock.extended
    assert clock.due_on == default_calendar().add_working_days(start, 40)
    with pytest.raises(ClockError, match="one extension"):
        clock.extend(on=D(2026, 10, 21))
    text = clock.explain().to_text()
    assert "延长 Extended: period is now 40 working days" in text
    assert "2026-10-20 Tue: extended (延长) by 20 working days" in text
    assert "(40/40)" in text


def test_extension_of_a_calendar_day_period() -> None:
    clock = start_clock("reconsideration.decision.general", D(2026, 3, 2))
    assert clock.due_on == D(2026, 5, 6)  # 60 days end 05-01 (Labour Day)
    assert clock.extend(on=D(2026, 4, 20)).due_on == D(2026, 5, 31) + ONE  # 90 days: 05-31 Sun


def test_rule_without_extension_cannot_be_extended() -> None:
    with pytest.raises(ClockError, match="no statutory extension"):
        start_clock("petition.review", D(2026, 3, 2)).extend(on=D(2026, 3, 3))


def test_extension_after_the_period_ended_is_an_error() -> None:
    clock = start_clock("petition.handling", D(2026, 3, 2))
    with pytest.raises(ClockError, match="already ended"):
        clock.extend(on=clock.due_on + ONE)


def test_extension_while_paused_is_allowed() -> None:
    clock = start_clock("disclosure.reply", D(2026, 3, 2)).pause(on=D(2026, 3, 3))
    late = clock.due_on + timedelta(days=10)
    extended = clock.extend(on=late).resume(on=late)
    assert extended.extended
    assert extended.due_on > late


# --------------------------------------------------------------------------- status


def test_status_on_given_dates() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))  # due 2026-10-29
    assert clock.status(D(2026, 9, 25)) is ClockStatus.RUNNING
    assert clock.status(D(2026, 10, 29)) is ClockStatus.RUNNING
    assert clock.status(D(2026, 10, 30)) is ClockStatus.OVERDUE
    assert clock.status(D(2026, 10, 30), met_on=D(2026, 10, 20)) is ClockStatus.MET
    # Met late is still met; days_overdue(met_on) says how late.
    assert clock.status(D(2026, 11, 5), met_on=D(2026, 11, 2)) is ClockStatus.MET
    assert clock.days_overdue(D(2026, 11, 2)) == 4
    # A reply that arrives later has not happened yet on the day asked about.
    assert clock.status(D(2026, 10, 31), met_on=D(2026, 11, 2)) is ClockStatus.OVERDUE


def test_paused_clock_is_never_overdue() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25)).pause(on=D(2026, 10, 9))
    assert clock.status(D(2026, 10, 8)) is ClockStatus.RUNNING
    assert clock.status(D(2026, 10, 9)) is ClockStatus.PAUSED
    assert clock.status(D(2026, 12, 31)) is ClockStatus.PAUSED
    assert clock.days_overdue(D(2026, 12, 31)) == 0


def test_days_overdue_counts_calendar_days_past_the_due_date() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))
    assert clock.days_overdue(D(2026, 10, 1)) == 0
    assert clock.days_overdue(D(2026, 10, 29)) == 0
    assert clock.days_overdue(D(2026, 10, 30)) == 1
    assert clock.days_overdue(D(2026, 11, 28)) == 30


def test_status_values_are_plain_strings() -> None:
    assert [s.value for s in ClockStatus] == ["running", "paused", "met", "overdue"]
    assert DayUnit("working") is DayUnit.WORKING


# --------------------------------------------------------------------------- explanations


def test_explanation_lists_every_day_from_start_to_due_once() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))
    explanation = clock.explain()
    days = [s.date for s in explanation.steps if s.kind is StepKind.DAY]
    assert days == [D(2026, 9, 25) + timedelta(days=i) for i in range(35)]
    assert days[-1] == explanation.due_on == clock.due_on
    assert sum(s.counted for s in explanation.steps) == 20
    assert explanation.rule is RULES["disclosure.reply"]
    assert (explanation.days_required, explanation.days_counted) == (20, 20)


def test_explanation_of_a_paused_clock_stops_at_the_pause() -> None:
    clock = start_clock("disclosure.reply", D(2026, 12, 10)).pause(on=D(2026, 12, 15))
    explanation = clock.explain()
    assert explanation.paused_on == D(2026, 12, 15)
    assert explanation.days_counted == 3
    assert explanation.steps[-1].kind is StepKind.EVENT
    text = explanation.to_text()
    assert "paused (暂停计算) since 2026-12-15 Tue with 17 of 20 working days" in text
    assert "no earlier than" in text


def test_explanation_text_groups_counted_days_and_lists_skipped_days() -> None:
    text = start_clock("disclosure.reply", D(2026, 9, 25)).explain().to_text()
    assert "2026-10-12 – 2026-10-16: 5 working days counted (11/20)" in text
    assert "2026-10-01 Thu: not counted — holiday: 国庆节 National Day" in text
    assert "2026-10-07 Wed: not counted — holiday: 国庆节 National Day" in text
    assert "2026-10-10 Sat: counted (6/20) — make-up working day (调休)" in text
    assert "2026-10-11 Sun: not counted — weekend" in text


def test_explanation_text_of_a_minimum_period() -> None:
    text = start_clock("decision.public_comment", D(2026, 9, 1)).explain().to_text()
    assert "不少于 at least 30 days" in text
    assert "最早届满 Earliest end: 2026-10-08 Thu" in text
    assert "2026-09-02 – 2026-09-30: 29 calendar days counted (29/30)" in text


def test_explanation_text_of_a_single_working_day_and_provisional_days() -> None:
    require_unpublished(2027)
    text = start_clock("disclosure.reply", D(2026, 12, 10)).explain().to_text()
    assert "2026-12-11 Fri: 1 working day counted (1/20)" in text
    assert "(provisional: no official schedule for 2027)" in text


def test_readme_example_is_the_disclosure_request_of_2026_09_25() -> None:
    text = readme_example()
    assert text == start_clock("disclosure.reply", D(2026, 9, 25)).explain().to_text()
    assert "国庆节 National Day" in text
    assert "第三十三条" in text
    assert "政府信息公开条例（2019）" in text
    assert "届满 Due: 2026-10-29 Thu" in text
    assert readme_example() == text  # deterministic


# --------------------------------------------------------------------------- properties

ANY_RULE = st.sampled_from(sorted(RULES))
ANY_START = st.dates(min_value=D(2004, 1, 1), max_value=D(2030, 12, 31))
PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(rule=ANY_RULE, start=ANY_START)
def test_due_date_is_never_a_rest_day(rule: str, start: date) -> None:
    clock = start_clock(rule, start)
    assert default_calendar().is_working_day(clock.due_on)
    assert clock.due_on > start


@PROPS
@given(
    rule=ANY_RULE,
    start=ANY_START,
    pause_after=st.integers(min_value=0, max_value=120),
    pause_days=st.integers(min_value=0, max_value=60),
)
def test_pause_never_makes_a_clock_shorter(
    rule: str, start: date, pause_after: int, pause_days: int
) -> None:
    clock = start_clock(rule, start)
    paused_on = min(start + timedelta(days=pause_after), clock.due_on)
    paused = clock.pause(on=paused_on)
    assert paused.due_on >= clock.due_on
    resumed = paused.resume(on=paused_on + timedelta(days=pause_days))
    assert resumed.due_on >= clock.due_on
    assert default_calendar().is_working_day(resumed.due_on)


@PROPS
@given(
    rule=st.sampled_from(sorted(n for n, r in RULES.items() if r.extension_days)),
    start=ANY_START,
    extend_after=st.integers(min_value=0, max_value=120),
)
def test_extension_never_moves_a_date_earlier(rule: str, start: date, extend_after: int) -> None:
    clock = start_clock(rule, start)
    extended = clock.extend(on=min(start + timedelta(days=extend_after), clock.due_on))
    assert extended.due_on > clock.due_on


@PROPS
@given(
    rule=st.sampled_from(sorted(n for n, r in RULES.items() if r.unit is DayUnit.WORKING)),
    start=ANY_START,
)
def test_working_day_periods_count_exactly_n_working_days(rule: str, start: date) -> None:
    clock = start_clock(rule, start)
    cal = default_calendar()
    span = (clock.due_on - start).days
    counted = sum(cal.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
    assert counted == clock.rule.days
    assert clock.due_on == cal.add_working_days(start, clock.rule.days)


@PROPS
@given(
    rule=st.sampled_from(sorted(n for n, r in RULES.items() if r.unit is DayUnit.CALENDAR)),
    start=ANY_START,
)
def test_calendar_day_periods_end_on_the_first_working_day_from_day_n(
    rule: str, start: date
) -> None:
    clock = start_clock(rule, start)
    cal = default_calendar()
    last = start + timedelta(days=clock.rule.days)
    expected = last if cal.is_working_day(last) else cal.next_working_day(last)
    assert clock.due_on == expected


def test_stored_events_replay_to_the_same_clock() -> None:
    clock = (
        start_clock("disclosure.reply", D(2026, 9, 1))
        .pause(on=D(2026, 9, 2))
        .resume(on=D(2026, 9, 4))
        .restart(on=D(2026, 9, 8))
        .extend(on=D(2026, 9, 9))
    )
    stored = [(str(e.kind), e.on.isoformat()) for e in clock.events]
    events = [ClockEvent(EventKind(kind), D.fromisoformat(on)) for kind, on in stored]
    again = replay_clock("disclosure.reply", events)
    assert again == clock
    assert again.due_on == clock.due_on
    assert again.started_on == D(2026, 9, 8)


def test_replay_checks_the_events() -> None:
    start = ClockEvent(EventKind.START, D(2026, 9, 1))
    with pytest.raises(ClockError, match="begin with its start"):
        replay_clock("disclosure.reply", [])
    with pytest.raises(ClockError, match="begin with its start"):
        replay_clock("disclosure.reply", [ClockEvent(EventKind.PAUSE, D(2026, 9, 1))])
    with pytest.raises(ClockError, match="starts only once"):
        replay_clock("disclosure.reply", [start, start])
    with pytest.raises(ClockError, match="not paused"):
        replay_clock("disclosure.reply", [start, ClockEvent(EventKind.RESUME, D(2026, 9, 2))])


def test_a_clock_must_begin_with_its_start() -> None:
    with pytest.raises(ClockError, match="begin with its start"):
        Clock(RULES["disclosure.reply"], (), WorkCalendar())


def test_clock_is_a_plain_value() -> None:
    clock = start_clock("disclosure.reply", D(2026, 9, 25))
    assert isinstance(clock, Clock)
    assert clock == start_clock("disclosure.reply", D(2026, 9, 25), calendar=WorkCalendar())
    assert "calendar" not in repr(clock)
