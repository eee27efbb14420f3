from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fazhi.contracts.supervision import Escalation, ItemStatus
from fazhi.rules.statemachine import IllegalTransition, Machine, action_name
from supervision.domain import (
    DEFAULT_LADDER,
    SUPERVISOR_ROLE,
    Accept,
    Close,
    Complete,
    Escalate,
    ItemKind,
    Ladder,
    Overdue,
    PlanTask,
    Rectify,
    Reminder,
    Reopen,
    ReopenItem,
    ReportProgress,
    SupervisionItem,
    TaskState,
    median,
    next_watch_day,
    open_item,
    rolled_up_progress,
    transition_item,
    transition_task,
    watch_days,
    watch_step,
)

DUE = date(2025, 12, 31)
DAY = date(2025, 6, 1)


def task() -> PlanTask:
    return PlanTask("measure-18", "sfj", DUE)


def item() -> SupervisionItem:
    return open_item("item-1", ItemKind.TASK_OVERDUE, "sfj", DAY)


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


def test_a_closed_item_only_reopens() -> None:
    closed = transition_item(item(), Close(DAY, "done"))
    with pytest.raises(IllegalTransition, match=r"allowed: reopen_item") as e:
        transition_item(closed, Close(DAY, "again"))
    assert e.value.allowed == ("reopen_item",)


def test_action_names_are_snake_case_class_names() -> None:
    assert action_name(ReopenItem(DAY, "x")) == "reopen_item"
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


# --- the deadline watch ------------------------------------------------------------------------


def test_a_task_is_watched_14_and_3_days_before_and_from_the_day_after_it_is_due() -> None:
    assert watch_days(DUE) == (date(2025, 12, 17), date(2025, 12, 28), date(2026, 1, 1))
    assert next_watch_day(DUE, date(2025, 12, 1)) == date(2025, 12, 17)
    assert next_watch_day(DUE, date(2025, 12, 17)) == date(2025, 12, 28)
    assert next_watch_day(DUE, date(2025, 12, 28)) == date(2026, 1, 1)
    assert next_watch_day(DUE, date(2026, 1, 1)) == date(2026, 1, 2)  # then every day


def test_the_watcher_reminds_before_and_counts_days_overdue_after() -> None:
    assert watch_step(DUE, date(2025, 12, 17)) == Reminder(14)
    assert watch_step(DUE, date(2025, 12, 28)) == Reminder(3)
    assert watch_step(DUE, DUE) == Reminder(0)
    assert watch_step(DUE, date(2026, 1, 1)) == Overdue(1)
    assert watch_step(DUE, date(2026, 11, 30)) == Overdue(334)


# --- the escalation ladder ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "step"),
    [
        (0, Escalation.SUPERVISE),
        (29, Escalation.SUPERVISE),
        (30, Escalation.INTERVIEW),
        (59, Escalation.INTERVIEW),
        (60, Escalation.PUBLIC_NOTICE),
        (400, Escalation.PUBLIC_NOTICE),
    ],
)
def test_default_ladder_supervises_at_once_interviews_at_30_and_notifies_at_60_days(
    days: int, step: Escalation
) -> None:
    assert DEFAULT_LADDER.step_for(days) is step


def test_ladder_thresholds_are_configurable_and_parsed_from_settings() -> None:
    strict = Ladder.parse("0,5,10")
    assert strict == Ladder(0, 5, 10)
    assert strict.step_for(5) is Escalation.INTERVIEW
    assert strict.step_for(10) is Escalation.PUBLIC_NOTICE


@pytest.mark.parametrize(("s", "i", "p"), [(-1, 15, 30), (1, 1, 30), (1, 20, 15)])
def test_ladder_thresholds_must_rise_strictly_from_zero(s: int, i: int, p: int) -> None:
    with pytest.raises(ValueError, match="must rise strictly"):
        Ladder(s, i, p)


def test_a_late_look_takes_every_step_reached_in_order() -> None:
    assert DEFAULT_LADDER.steps_due(Escalation.SUPERVISE, 334) == [
        Escalation.INTERVIEW,
        Escalation.PUBLIC_NOTICE,
    ]
    assert DEFAULT_LADDER.steps_due(Escalation.INTERVIEW, 45) == []
    assert DEFAULT_LADDER.steps_due(Escalation.PUBLIC_NOTICE, 900) == []


def test_the_next_ladder_day_is_never_before_today_and_none_at_the_top() -> None:
    i = open_item("i", ItemKind.TASK_OVERDUE, "sfj", DAY, ladder_from=date(2025, 1, 1))
    assert i.next_escalation_day(DEFAULT_LADDER, DAY) == DAY  # 约谈 was due long ago
    fresh = open_item("i", ItemKind.ALERT, "sfj", DAY)
    assert fresh.next_escalation_day(DEFAULT_LADDER, DAY) == DAY + timedelta(days=30)
    top = transition_item(fresh, Escalate(Escalation.PUBLIC_NOTICE, DAY, "x"))
    assert top.next_escalation_day(DEFAULT_LADDER, DAY) is None


ladders = st.tuples(st.integers(0, 50), st.integers(1, 50), st.integers(1, 50)).map(
    lambda t: Ladder(t[0], t[0] + t[1], t[0] + t[1] + t[2])
)


@given(st.integers(0, 400), st.integers(0, 400), ladders)
def test_escalation_never_decreases_as_days_open_grow(days: int, more: int, ladder: Ladder) -> None:
    assert ladder.step_for(days).rank <= ladder.step_for(days + more).rank


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
        "delivery_failing",
    }


def test_item_opens_at_supervise() -> None:
    i = item()
    assert (i.status, i.escalation) == (ItemStatus.OPEN, Escalation.SUPERVISE)


def test_steps_rank_supervise_then_interview_then_public_notice() -> None:
    assert [s.rank for s in Escalation] == [0, 1, 2]
    assert [s.label_zh for s in Escalation] == ["督办", "约谈", "通报"]


def test_escalation_never_goes_down() -> None:
    high = transition_item(item(), Escalate(Escalation.PUBLIC_NOTICE, DAY, "repeated"))
    assert high.escalation is Escalation.PUBLIC_NOTICE
    for to in (Escalation.SUPERVISE, Escalation.INTERVIEW):
        with pytest.raises(IllegalTransition, match="escalation never goes down"):
            transition_item(high, Escalate(to, DAY, "x"))


def test_a_unit_rectifies_and_a_supervisor_accepts_or_reopens() -> None:
    rectifying = transition_item(item(), Rectify(DAY, "已整改"))
    assert rectifying.status is ItemStatus.RECTIFYING
    assert rectifying.next_escalation_day(DEFAULT_LADDER, DAY) is None  # the ladder pauses
    closed = transition_item(rectifying, Accept(DAY))
    assert (closed.status, closed.closed_on) == (ItemStatus.CLOSED, DAY)
    reopened = transition_item(rectifying, ReopenItem(DAY, "整改不到位"))
    assert reopened.status is ItemStatus.OPEN
    with pytest.raises(IllegalTransition, match="needs a reason"):
        transition_item(rectifying, ReopenItem(DAY, " "))
    with pytest.raises(IllegalTransition, match="needs a note"):
        transition_item(item(), Rectify(DAY, ""))


def test_only_a_rectification_can_be_accepted_and_a_rectifying_item_is_not_escalated() -> None:
    with pytest.raises(IllegalTransition, match="cannot accept"):
        transition_item(item(), Accept(DAY))
    rectifying = transition_item(item(), Rectify(DAY, "已整改"))
    with pytest.raises(IllegalTransition, match="cannot escalate"):
        transition_item(rectifying, Escalate(Escalation.INTERVIEW, DAY, "x"))


def test_closing_needs_a_resolution() -> None:
    with pytest.raises(IllegalTransition, match="needs a resolution"):
        transition_item(item(), Close(DAY, ""))
    closed = transition_item(item(), Close(DAY, "任务已完成"))
    assert (closed.status, closed.closed_on, closed.resolution) == (
        ItemStatus.CLOSED,
        DAY,
        "任务已完成",
    )
    with pytest.raises(IllegalTransition, match="state 'closed'"):
        transition_item(closed, Escalate(Escalation.INTERVIEW, DAY, "x"))


item_actions = st.one_of(
    st.builds(Escalate, st.sampled_from(Escalation), st.just(DAY), st.text(max_size=3)),
    st.builds(Rectify, st.just(DAY), st.sampled_from(["", "done"])),
    st.builds(Accept, st.just(DAY)),
    st.builds(ReopenItem, st.just(DAY), st.sampled_from(["", "why"])),
    st.builds(Close, st.just(DAY), st.sampled_from(["", "done"])),
)


@given(st.lists(item_actions, max_size=12))
def test_item_escalation_never_drops_whatever_the_commands(actions: list[Any]) -> None:
    i = item()
    for action in actions:
        try:
            nxt = transition_item(i, action)
        except IllegalTransition:
            continue
        assert nxt.escalation.rank >= i.escalation.rank
        assert (nxt.status is ItemStatus.CLOSED) == (nxt.closed_on is not None)
        i = nxt


# --- measures and scorecards ---------------------------------------------------------------------


def test_a_measure_rolls_its_progress_up_weighted() -> None:
    assert rolled_up_progress({"T1": (100, 1.0), "T2": (0, 1.0)}) == 50.0
    assert rolled_up_progress({"T1": (100, 3.0), "T2": (0, 1.0)}) == 75.0
    assert rolled_up_progress({}) == 0.0


def test_median_of_days_to_close() -> None:
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5


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
    assert DEFAULT_LADDER.step_for(t.days_overdue(DUE + timedelta(days=20))) is (
        Escalation.SUPERVISE
    )
