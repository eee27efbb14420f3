"""Supervision rules: plan tasks and their progress, supervision items 督办事项 and the escalation
ladder 督办 → 约谈 → 通报 by days overdue. Pure: dates are passed in, nothing is read or written."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.contracts.supervision import ItemKind
from fazhi.statemachine import Machine

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


class Level(StrEnum):
    """The escalation ladder of plan measure (二十九), lowest first."""

    SUPERVISE = "supervise"  # 督办
    INTERVIEW = "interview"  # 约谈
    PUBLIC_NOTICE = "public_notice"  # 通报

    @property
    def rank(self) -> int:
        return list(Level).index(self)


@dataclass(frozen=True)
class Ladder:
    """Days overdue at which each level starts. The plan fixes no numbers; the defaults
    (督办 on the first day overdue, 约谈 after 15 days, 通报 after 30) are the district's choice."""

    supervise: int = 1
    interview: int = 15
    public_notice: int = 30

    def __post_init__(self) -> None:
        if not 1 <= self.supervise < self.interview < self.public_notice:
            raise ValueError(
                "ladder thresholds must rise strictly from at least 1 day: "
                f"{self.supervise}, {self.interview}, {self.public_notice}"
            )


DEFAULT_LADDER = Ladder()


def escalation_level(days_overdue: int, ladder: Ladder = DEFAULT_LADDER) -> Level | None:
    if days_overdue >= ladder.public_notice:
        return Level.PUBLIC_NOTICE
    if days_overdue >= ladder.interview:
        return Level.INTERVIEW
    if days_overdue >= ladder.supervise:
        return Level.SUPERVISE
    return None


class ItemState(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    CLOSED = "closed"


@dataclass(frozen=True)
class Escalate:
    """A supervisor raises the item by hand; it must go up."""

    to: Level
    on: date
    reason: str


@dataclass(frozen=True)
class AssessOverdue:
    """The timer's periodic look: raise to the ladder's level for `days_overdue`, never lower."""

    days_overdue: int
    on: date
    ladder: Ladder = DEFAULT_LADDER


@dataclass(frozen=True)
class Close:
    on: date
    resolution: str


ItemAction = Escalate | AssessOverdue | Close


@dataclass(frozen=True)
class Escalation:
    level: Level
    on: date
    reason: str


@dataclass(frozen=True)
class SupervisionItem:
    """督办事项: opened at 督办 (the item itself is the supervision); escalation only goes up
    while it is open; closed is terminal (a recurrence opens a new item)."""

    item_id: str
    kind: ItemKind
    unit: str
    subject: str
    opened_on: date
    level: Level = Level.SUPERVISE
    state: ItemState = ItemState.OPENED
    closed_on: date | None = None
    resolution: str = ""
    escalations: tuple[Escalation, ...] = ()


def open_item(
    item_id: str,
    kind: ItemKind,
    unit: str,
    subject: str,
    opened_on: date,
    level: Level = Level.SUPERVISE,
) -> SupervisionItem:
    state = ItemState.OPENED if level is Level.SUPERVISE else ItemState.ESCALATED
    return SupervisionItem(item_id, kind, unit, subject, opened_on, level, state)


ITEM_LIFECYCLE = Machine[ItemState](
    "supervision item",
    {
        ItemState.OPENED: {Escalate, AssessOverdue, Close},
        ItemState.ESCALATED: {Escalate, AssessOverdue, Close},
        ItemState.CLOSED: set(),
    },
)


def transition_item(item: SupervisionItem, action: ItemAction) -> SupervisionItem:
    ITEM_LIFECYCLE.check(item.state, action)
    match action:
        case Escalate(to=to, on=on, reason=reason):
            if to.rank <= item.level.rank:
                ITEM_LIFECYCLE.refuse(
                    item.state, action, f"escalation never goes down: {item.level} → {to}"
                )
            return _raise(item, to, on, reason)
        case AssessOverdue(days_overdue=days, on=on, ladder=ladder):
            level = escalation_level(days, ladder)
            if level is None or level.rank <= item.level.rank:
                return item
            return _raise(item, level, on, f"{days} days overdue")
        case Close(on=on, resolution=resolution):
            if not resolution.strip():
                ITEM_LIFECYCLE.refuse(item.state, action, "closing needs a resolution")
            return replace(item, state=ItemState.CLOSED, closed_on=on, resolution=resolution)


def _raise(item: SupervisionItem, level: Level, on: date, reason: str) -> SupervisionItem:
    return replace(
        item,
        level=level,
        state=ItemState.ESCALATED,
        escalations=(*item.escalations, Escalation(level, on, reason)),
    )
