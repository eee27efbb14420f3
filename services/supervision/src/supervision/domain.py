"""Supervision rules: plan tasks and their progress, the deadline watch (reminders, overdue),
supervision items 督办事项 with their rectification 整改 and the escalation ladder 督办 → 约谈 →
通报, measure progress rolled up from its tasks and milestones, and scorecards. Pure: dates are
passed in, nothing is read or written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from fazhi.contracts.supervision import Escalation, ItemKind, ItemStatus
from fazhi.rules import Machine

SUPERVISOR_ROLE = "supervisor"


class TaskState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True)
class ReportProgress:
    progress_pct: int
    note: str
    reported_on: date


@dataclass(frozen=True)
class Complete:
    completed_on: date
    evidence: str


@dataclass(frozen=True)
class Reopen:
    by: str
    role: str
    reason: str
    reopened_on: date


TaskAction = ReportProgress | Complete | Reopen


@dataclass(frozen=True)
class Reopening:
    by: str
    reason: str
    reopened_on: date


@dataclass(frozen=True)
class PlanTask:
    """A measure of the plan assigned to a unit. Overdue is derived (`days_overdue`), not a state:
    time passing is not an event, and the timer derives `supervision.task.overdue` from it."""

    task_id: str
    unit: str
    due_on: date
    state: TaskState = TaskState.NOT_STARTED
    progress_pct: int = 0
    completed_on: date | None = None
    evidence: str = ""
    reopenings: tuple[Reopening, ...] = ()

    def days_overdue(self, today: date) -> int:
        if self.state is TaskState.COMPLETED:
            return 0
        return max(0, (today - self.due_on).days)

    def is_overdue(self, today: date) -> bool:
        return self.days_overdue(today) > 0


TASK_LIFECYCLE = Machine[TaskState](
    "plan task",
    {
        TaskState.NOT_STARTED: {ReportProgress, Complete},
        TaskState.IN_PROGRESS: {ReportProgress, Complete},
        TaskState.COMPLETED: {Reopen},
    },
)


def transition_task(task: PlanTask, action: TaskAction) -> PlanTask:
    """Progress may be corrected down (a unit fixes a misreport) but stays within 0-100;
    reporting 100 % does not complete a task: completion needs evidence."""
    TASK_LIFECYCLE.check(task.state, action)
    match action:
        case ReportProgress(progress_pct=pct):
            if not 0 <= pct <= 100:
                TASK_LIFECYCLE.refuse(task.state, action, f"progress {pct} % is outside 0-100")
            return replace(task, state=TaskState.IN_PROGRESS, progress_pct=pct)
        case Complete(completed_on=on, evidence=evidence):
            if not evidence.strip():
                TASK_LIFECYCLE.refuse(task.state, action, "completion needs evidence")
            return replace(
                task,
                state=TaskState.COMPLETED,
                progress_pct=100,
                completed_on=on,
                evidence=evidence,
            )
        case Reopen(by=by, role=role, reason=reason, reopened_on=on):
            if role != SUPERVISOR_ROLE:
                TASK_LIFECYCLE.refuse(
                    task.state, action, f"only a {SUPERVISOR_ROLE} may reopen, not {role!r}"
                )
            if not reason.strip():
                TASK_LIFECYCLE.refuse(task.state, action, "reopening needs a reason")
            return replace(
                task,
                state=TaskState.IN_PROGRESS,
                completed_on=None,
                evidence="",
                reopenings=(*task.reopenings, Reopening(by, reason, on)),
            )


# --- the deadline watch -----------------------------------------------------------------

REMINDER_DAYS = (14, 3)
"""Reminders `supervision.task.due_soon` go out this many days before a due date."""


def watch_days(due_on: date) -> tuple[date, ...]:
    """The days the watcher acts on an unfinished task due on `due_on`: each reminder, then the
    first day overdue (after which it looks every day while the task stays unfinished)."""
    return (*(due_on - timedelta(days=n) for n in REMINDER_DAYS), due_on + timedelta(days=1))


def next_watch_day(due_on: date, after: date) -> date:
    """The first watch day later than `after` (from the first day overdue on: the next day)."""
    for day in watch_days(due_on):
        if day > after:
            return day
    return after + timedelta(days=1)


@dataclass(frozen=True)
class Reminder:
    days_left: int


@dataclass(frozen=True)
class Overdue:
    days_overdue: int


WatchStep = Reminder | Overdue


def watch_step(due_on: date, today: date) -> WatchStep:
    """What the watcher says about an unfinished task it looks at on `today`: the days overdue
    once past due, else a reminder with the days left (a reminder day missed while the watcher
    was down is made up with the days actually left)."""
    if today > due_on:
        return Overdue((today - due_on).days)
    return Reminder((due_on - today).days)


# --- the ladder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ladder:
    """Days an item has stayed open (counted from its ladder start) at which each step is
    taken. The plan fixes no numbers; the defaults (督办 at once, 约谈 after 30 days, 通报 after
    60) are the district's choice, configurable (`SUPERVISION_LADDER_DAYS`)."""

    supervise: int = 0
    interview: int = 30
    public_notice: int = 60

    def __post_init__(self) -> None:
        if not 0 <= self.supervise < self.interview < self.public_notice:
            raise ValueError(
                "ladder thresholds must rise strictly from at least 0 days: "
                f"{self.supervise}, {self.interview}, {self.public_notice}"
            )

    @classmethod
    def parse(cls, text: str) -> Ladder:
        """`"0,30,60"` as in the settings."""
        parts = [int(p) for p in text.split(",")]
        if len(parts) != 3:
            raise ValueError(f"a ladder is three day counts (督办,约谈,通报), not {text!r}")
        return cls(*parts)

    def threshold(self, step: Escalation) -> int:
        return {
            Escalation.SUPERVISE: self.supervise,
            Escalation.INTERVIEW: self.interview,
            Escalation.PUBLIC_NOTICE: self.public_notice,
        }[step]

    def step_for(self, days_open: int) -> Escalation:
        """The step an item open for `days_open` days has reached (at least 督办)."""
        reached = Escalation.SUPERVISE
        for step in Escalation:
            if days_open >= self.threshold(step):
                reached = step
        return reached

    def steps_due(self, current: Escalation, days_open: int) -> list[Escalation]:
        """Every step above `current` that `days_open` has reached, lowest first: each is its
        own `supervision.item.escalated`, so a late look still shows the whole ladder."""
        return [
            step
            for step in Escalation
            if step.rank > current.rank and days_open >= self.threshold(step)
        ]

    def next_day(self, start: date, current: Escalation) -> date | None:
        """The day the next step above `current` falls due, or None at the top."""
        above = [s for s in Escalation if s.rank > current.rank]
        return start + timedelta(days=self.threshold(above[0])) if above else None


DEFAULT_LADDER = Ladder()


# --- supervision items ------------------------------------------------------------------


@dataclass(frozen=True)
class Escalate:
    """The watcher (or a supervisor) raises the item; it must go up, and only while open."""

    to: Escalation
    on: date
    reason: str


@dataclass(frozen=True)
class Rectify:
    """The unit under supervision reports its rectification 整改."""

    on: date
    note: str


@dataclass(frozen=True)
class Accept:
    """A supervisor accepts the rectification."""

    on: date


@dataclass(frozen=True)
class ReopenItem:
    """A supervisor finds the rectification (or the closing) wanting."""

    on: date
    reason: str


@dataclass(frozen=True)
class Close:
    """The cause is gone (the task was completed, the decision executed)."""

    on: date
    resolution: str


ItemAction = Escalate | Rectify | Accept | ReopenItem | Close


@dataclass(frozen=True)
class SupervisionItem:
    """督办事项: opened at 督办; the ladder climbs only while it is open (a rectification under
    review pauses it); a supervisor accepts a rectification (closed) or reopens it."""

    item_id: str
    kind: ItemKind
    unit: str
    opened_on: date
    ladder_from: date
    escalation: Escalation = Escalation.SUPERVISE
    status: ItemStatus = ItemStatus.OPEN
    closed_on: date | None = None
    resolution: str = ""

    def next_escalation_day(self, ladder: Ladder, today: date) -> date | None:
        """The day the watcher looks at this item next (never before `today`), None when the
        ladder has nothing more to say (closed, under review, or at the top)."""
        if self.status is not ItemStatus.OPEN:
            return None
        day = ladder.next_day(self.ladder_from, self.escalation)
        return None if day is None else max(day, today)

    def days_open(self, today: date) -> int:
        return (today - self.ladder_from).days


def open_item(
    item_id: str,
    kind: ItemKind,
    unit: str,
    opened_on: date,
    ladder_from: date | None = None,
) -> SupervisionItem:
    return SupervisionItem(item_id, kind, unit, opened_on, ladder_from or opened_on)


ITEM_LIFECYCLE = Machine[ItemStatus](
    "supervision item",
    {
        ItemStatus.OPEN: {Escalate, Rectify, Close},
        ItemStatus.RECTIFYING: {Accept, ReopenItem, Close, Rectify},
        ItemStatus.CLOSED: {ReopenItem},
    },
)


def transition_item(item: SupervisionItem, action: ItemAction) -> SupervisionItem:
    ITEM_LIFECYCLE.check(item.status, action)
    match action:
        case Escalate(to=to, reason=reason):
            if to.rank <= item.escalation.rank:
                ITEM_LIFECYCLE.refuse(
                    item.status, action, f"escalation never goes down: {item.escalation} → {to}"
                )
            return replace(item, escalation=to)
        case Rectify(note=note):
            if not note.strip():
                ITEM_LIFECYCLE.refuse(item.status, action, "a rectification report needs a note")
            return replace(item, status=ItemStatus.RECTIFYING)
        case Accept(on=on):
            return replace(item, status=ItemStatus.CLOSED, closed_on=on, resolution="accepted")
        case ReopenItem(reason=reason, on=on):
            if not reason.strip():
                ITEM_LIFECYCLE.refuse(item.status, action, "reopening needs a reason")
            # Reopened, the ladder counts on from where it stood: the days under review count.
            return replace(item, status=ItemStatus.OPEN, closed_on=None, resolution="")
        case Close(on=on, resolution=resolution):
            if not resolution.strip():
                ITEM_LIFECYCLE.refuse(item.status, action, "closing needs a resolution")
            return replace(item, status=ItemStatus.CLOSED, closed_on=on, resolution=resolution)


# --- measures: progress rolled up -------------------------------------------------------


def rolled_up_progress(children: Mapping[str, tuple[float, float]]) -> float:
    """A measure's progress from its tasks and milestones, `{id: (progress_pct, weight)}`, as a
    weighted mean (Decidim's accountability module rolls a result up from its children so)."""
    total = sum(weight for _, weight in children.values())
    if total <= 0:
        return 0.0
    return round(sum(pct * weight for pct, weight in children.values()) / total, 1)


# --- scorecards -------------------------------------------------------------------------

STUDY_HOURS_DUTY = 60
LECTURES_DUTY = 2


@dataclass(frozen=True)
class Training:
    study_hours: float = 0.0
    lectures: int = 0

    @property
    def study_duty_met(self) -> bool:
        return self.study_hours >= STUDY_HOURS_DUTY

    @property
    def lecture_duty_met(self) -> bool:
        return self.lectures >= LECTURES_DUTY


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2
