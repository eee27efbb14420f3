from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fazhi.statemachine import IllegalTransition, Machine, action_name
from supervision.domain import (
    DEFAULT_LADDER,
    SUPERVISOR_ROLE,
    AssessOverdue,
    Close,
    Complete,
    Escalate,
    ItemKind,
    ItemState,
    Ladder,
    Level,
    PlanTask,
    Reopen,
    ReportProgress,
    SupervisionItem,
    TaskState,
    escalation_level,
    open_item,
    transition_item,
    transition_task,
)

DUE = date(2025, 12, 31)
DAY = date(2025, 6, 1)


def task() -> PlanTask:
    return PlanTask("measure-18", "sfj", DUE)


def item(level: Level = Level.SUPERVISE) -> SupervisionItem:
    return open_item("item-1", ItemKind.TASK_OVERDUE, "sfj", "measure-18", DAY, level)


def progress(pct: int, on: date = DAY) -> ReportProgress:
    return ReportProgress(pct, "note", on)


def supervisor_reopen(reason: str = "evidence was a draft") -> Reopen:
    return Reopen("zhang", SUPERVISOR_ROLE, reason, DAY)


# --- the shared illegal-transition error -----------------------------------------------------


def test_illegal_transition_names_aggregate_state_action_and_allowed_actions() -> None:
    done = transition_task(task(), Complete(DAY, "report"))
    with pytest.raises(IllegalTransition) as e:
        transition_task(done, progress(50))
    assert (e.value.aggregate, e.value.state, e.value.action) == (
        "plan task",
        "completed",
        "report_progress",
    )
    assert e.value.allowed == ("reopen",)
    assert str(e.value) == "plan task in state 'completed' cannot report_progress; allowed: reopen"


def test_illegal_transition_is_a_value_error_with_the_guard_reason() -> None:
    with pytest.raises(ValueError, match=r"cannot report_progress: progress 101 % is outside"):
        transition_task(task(), progress(101))


def test_terminal_state_lists_no_allowed_actions() -> None:
    closed = transition_item(item(), Close(DAY, "done"))
    with pytest.raises(IllegalTransition, match=r"allowed: none \(terminal state\)") as e:
        transition_item(closed, Close(DAY, "again"))
    assert e.value.allowed == ()


def test_action_names_are_snake_case_class_names() -> None:
    assert action_name(AssessOverdue(3, DAY)) == "assess_overdue"
    assert Machine[str]("x", {"a": {ReportProgress}}).allowed("a") == ("report_progress",)
    assert Machine[str]("x", {}).allowed("unknown") == ()


# --- plan tasks --------------------------------------------------------------------------------


def test_first_progress_report_starts_the_task() -> None:
    started = transition_task(task(), progress(0))
    assert started.state is TaskState.IN_PROGRESS
    assert started.progress_pct == 0


def test_progress_may_be_corrected_down() -> None:
    t = transition_task(transition_task(task(), progress(60)), progress(40))
    assert (t.state, t.progress_pct) == (TaskState.IN_PROGRESS, 40)


@pytest.mark.parametrize("pct", [-1, 101, 250])
def test_progress_outside_0_to_100_is_refused(pct: int) -> None:
    with pytest.raises(IllegalTransition, match="outside 0-100"):
        transition_task(task(), progress(pct))


def test_reporting_full_progress_does_not_complete_the_task() -> None:
    t = transition_task(task(), progress(100))
    assert t.state is TaskState.IN_PROGRESS


def test_completion_needs_evidence() -> None:
    with pytest.raises(IllegalTransition, match="completion needs evidence"):
        transition_task(task(), Complete(DAY, "  "))


def test_completing_sets_full_progress_and_records_evidence() -> None:
    done = transition_task(transition_task(task(), progress(70)), Complete(DAY, "文件 2025-3"))
    assert done.state is TaskState.COMPLETED
    assert (done.progress_pct, done.completed_on, done.evidence) == (100, DAY, "文件 2025-3")


def test_task_can_be_completed_without_progress_reports() -> None:
    assert transition_task(task(), Complete(DAY, "e")).state is TaskState.COMPLETED


def test_completed_task_is_terminal_except_for_reopening() -> None:
    done = transition_task(task(), Complete(DAY, "e"))
    with pytest.raises(IllegalTransition):
        transition_task(done, Complete(DAY, "e"))


def test_only_a_supervisor_may_reopen_a_completed_task() -> None:
    done = transition_task(task(), Complete(DAY, "e"))
    with pytest.raises(IllegalTransition, match="only a supervisor may reopen, not 'unit'"):
        transition_task(done, Reopen("li", "unit", "wrong", DAY))


def test_reopening_needs_a_reason() -> None:
    done = transition_task(task(), Complete(DAY, "e"))
    with pytest.raises(IllegalTransition, match="needs a reason"):
        transition_task(done, supervisor_reopen(" "))


def test_reopened_task_goes_back_in_progress_and_records_who_and_why() -> None:
    done = transition_task(task(), Complete(DAY, "e"))
    again = transition_task(done, supervisor_reopen())
    assert again.state is TaskState.IN_PROGRESS
    assert (again.completed_on, again.evidence) == (None, "")
    assert [(r.by, r.reason) for r in again.reopenings] == [("zhang", "evidence was a draft")]


def test_reopen_is_refused_while_the_task_is_open() -> None:
    with pytest.raises(IllegalTransition, match="allowed: complete, report_progress"):
        transition_task(task(), supervisor_reopen())


def test_task_is_overdue_from_the_day_after_its_due_date() -> None:
    t = task()
    assert not t.is_overdue(DUE)
    assert t.days_overdue(DUE + timedelta(days=1)) == 1
    assert t.is_overdue(DUE + timedelta(days=1))


def test_completed_task_is_never_overdue() -> None:
    done = transition_task(task(), Complete(DUE + timedelta(days=3), "late"))
    assert done.days_overdue(DUE + timedelta(days=100)) == 0


# --- the escalation ladder ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "level"),
    [
        (-5, None),
        (0, None),
        (1, Level.SUPERVISE),
        (14, Level.SUPERVISE),
        (15, Level.INTERVIEW),
        (29, Level.INTERVIEW),
        (30, Level.PUBLIC_NOTICE),
        (400, Level.PUBLIC_NOTICE),
    ],
)
def test_default_ladder_supervises_at_1_interviews_at_15_publicly_notifies_at_30(
    days: int, level: Level | None
) -> None:
    assert escalation_level(days) is level


def test_ladder_thresholds_are_configurable() -> None:
    strict = Ladder(supervise=1, interview=5, public_notice=10)
    assert escalation_level(5, strict) is Level.INTERVIEW
    assert escalation_level(10, strict) is Level.PUBLIC_NOTICE


@pytest.mark.parametrize(("s", "i", "p"), [(0, 15, 30), (1, 1, 30), (1, 20, 15)])
def test_ladder_thresholds_must_rise_strictly_from_one_day(s: int, i: int, p: int) -> None:
    with pytest.raises(ValueError, match="must rise strictly"):
        Ladder(s, i, p)


ladders = st.tuples(st.integers(1, 50), st.integers(1, 50), st.integers(1, 50)).map(
    lambda t: Ladder(t[0], t[0] + t[1], t[0] + t[1] + t[2])
)


@given(st.integers(-10, 400), st.integers(0, 400), ladders)
def test_escalation_never_decreases_as_days_overdue_grow(
    days: int, more: int, ladder: Ladder
) -> None:
    def rank(level: Level | None) -> int:
        return -1 if level is None else level.rank

    assert rank(escalation_level(days, ladder)) <= rank(escalation_level(days + more, ladder))


# --- supervision items -------------------------------------------------------------------------


def test_item_kinds_cover_every_source_of_supervision() -> None:
    assert {k.value for k in ItemKind} == {
        "task_overdue",
        "alert",
        "alert_unacknowledged",
        "case_overdue",
        "request_overdue",
        "decision_execution",
        "inspection_finding",
    }


def test_item_opens_at_supervise() -> None:
    i = item()
    assert (i.state, i.level) == (ItemState.OPENED, Level.SUPERVISE)


def test_item_opened_above_supervise_is_already_escalated() -> None:
    assert item(Level.INTERVIEW).state is ItemState.ESCALATED


def test_levels_rank_supervise_then_interview_then_public_notice() -> None:
    assert [lv.rank for lv in (Level.SUPERVISE, Level.INTERVIEW, Level.PUBLIC_NOTICE)] == [0, 1, 2]


def test_timer_escalates_to_interview_after_15_days_overdue() -> None:
    i = transition_item(item(), AssessOverdue(15, DAY))
    assert (i.state, i.level) == (ItemState.ESCALATED, Level.INTERVIEW)
    assert [(e.level, e.reason) for e in i.escalations] == [(Level.INTERVIEW, "15 days overdue")]


def test_timer_skips_straight_to_public_notice_when_far_overdue() -> None:
    assert transition_item(item(), AssessOverdue(45, DAY)).level is Level.PUBLIC_NOTICE


def test_timer_below_the_next_threshold_leaves_the_item_unchanged() -> None:
    i = item()
    assert transition_item(i, AssessOverdue(3, DAY)) is i
    assert transition_item(i, AssessOverdue(0, DAY)) is i


def test_timer_uses_the_ladder_it_is_given() -> None:
    i = transition_item(item(), AssessOverdue(5, DAY, Ladder(1, 5, 10)))
    assert i.level is Level.INTERVIEW


def test_escalation_never_goes_back_down_while_open() -> None:
    high = transition_item(item(), AssessOverdue(31, DAY))
    assert transition_item(high, AssessOverdue(2, DAY)).level is Level.PUBLIC_NOTICE


def test_supervisor_escalates_by_hand() -> None:
    i = transition_item(item(), Escalate(Level.PUBLIC_NOTICE, DAY, "repeated"))
    assert i.level is Level.PUBLIC_NOTICE
    assert i.escalations[-1].reason == "repeated"


@pytest.mark.parametrize("to", [Level.SUPERVISE, Level.INTERVIEW])
def test_manual_escalation_must_go_up(to: Level) -> None:
    with pytest.raises(IllegalTransition, match="escalation never goes down"):
        transition_item(item(Level.INTERVIEW), Escalate(to, DAY, "x"))


def test_closing_needs_a_resolution_and_is_terminal() -> None:
    with pytest.raises(IllegalTransition, match="needs a resolution"):
        transition_item(item(), Close(DAY, ""))
    closed = transition_item(item(), Close(DAY, "rectified"))
    assert (closed.state, closed.closed_on, closed.resolution) == (
        ItemState.CLOSED,
        DAY,
        "rectified",
    )
    for action in (AssessOverdue(40, DAY), Escalate(Level.INTERVIEW, DAY, "x")):
        with pytest.raises(IllegalTransition, match="state 'closed'"):
            transition_item(closed, action)


item_actions = st.one_of(
    st.builds(AssessOverdue, st.integers(-5, 60), st.just(DAY)),
    st.builds(Escalate, st.sampled_from(Level), st.just(DAY), st.text(max_size=3)),
    st.builds(Close, st.just(DAY), st.sampled_from(["", "done"])),
)


@given(st.lists(item_actions, max_size=12))
def test_item_level_never_drops_whatever_the_commands(actions: list[Any]) -> None:
    i = item()
    for action in actions:
        try:
            nxt = transition_item(i, action)
        except IllegalTransition:
            continue
        assert nxt.level.rank >= i.level.rank
        if i.state is ItemState.CLOSED:
            pytest.fail("a closed item accepted a command")
        i = nxt


task_actions = st.one_of(
    st.builds(ReportProgress, st.integers(-10, 110), st.just("n"), st.just(DAY)),
    st.builds(Complete, st.just(DAY), st.sampled_from(["", "evidence"])),
    st.builds(
        Reopen,
        st.just("z"),
        st.sampled_from([SUPERVISOR_ROLE, "unit"]),
        st.sampled_from(["", "why"]),
        st.just(DAY),
    ),
)


@given(st.lists(task_actions, max_size=12))
def test_task_progress_stays_within_bounds_whatever_the_commands(actions: list[Any]) -> None:
    t = task()
    for action in actions:
        try:
            t = transition_task(t, action)
        except IllegalTransition:
            continue
        assert 0 <= t.progress_pct <= 100
        assert (t.state is TaskState.COMPLETED) == (t.completed_on is not None)
    assert escalation_level(t.days_overdue(DUE + timedelta(days=20)), DEFAULT_LADDER) in (
        None,
        Level.INTERVIEW,
    )
