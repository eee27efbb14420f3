"""The contract of `supervision.events`, owned by supervision 督查督办: the plan's tasks as their
units report on them, the supervision items 督办事项 the platform opens on what is overdue or
alarming, their rectification 整改, and the training records of measure (三十)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.contracts.models import PERSONAL, Id, LongText, Payload, ShortText, UnitCode
from fazhi.contracts.versions import upcaster
from fazhi.roles import Role
from fazhi.topology import SUPERVISION

SUPERVISORS = frozenset({Role.SUPERVISOR, Role.OPERATOR})


class ItemKind(StrEnum):
    """What a supervision item is about (the platform opens items itself; no unit sends this)."""

    TASK_OVERDUE = "task_overdue"
    ALERT = "alert"
    ALERT_UNACKNOWLEDGED = "alert_unacknowledged"
    CASE_OVERDUE = "case_overdue"
    REQUEST_OVERDUE = "request_overdue"
    DECISION_EXECUTION = "decision_execution"
    INSPECTION_FINDING = "inspection_finding"
    DELIVERY_FAILING = "delivery_failing"
    """The unit's system kept refusing its deliveries: its subscription was disabled."""


class Escalation(Term):
    """The ladder of measure (二十九) for units that fall behind, lowest first."""

    SUPERVISE = "supervise", "督办"
    INTERVIEW = "interview", "约谈"
    PUBLIC_NOTICE = "public_notice", "通报"

    @property
    def rank(self) -> int:
        return list(Escalation).index(self)


class ItemLevel(Term):
    """How grave an item's cause is, on the four colours of the district's warning scale: an
    alert's item takes its alert's colour; other causes are blue unless a supervisor says."""

    BLUE = "blue", "蓝色"
    YELLOW = "yellow", "黄色"
    ORANGE = "orange", "橙色"
    RED = "red", "红色"


class ItemStatus(Term):
    OPEN = "open", "待整改"
    RECTIFYING = "rectifying", "整改中"
    CLOSED = "closed", "已办结"


class TrainingKind(Term):
    """Measure (三十): study hours of enforcement and reconsideration staff, and the district
    government's legal lectures."""

    STUDY = "study", "学法培训"
    LECTURE = "lecture", "法治专题讲座"


class TaskProgressReported(Payload):
    task_id: Id
    unit: UnitCode
    progress_pct: int = Field(ge=0, le=100)
    note: Annotated[LongText, PERSONAL] = ""
    reported_at: AwareDatetime


class TaskCompleted(Payload):
    task_id: Id
    unit: UnitCode
    completed_at: AwareDatetime
    evidence: Annotated[LongText, PERSONAL] = Field(min_length=1)


class TaskOverdue(Payload):
    task_id: Id
    unit: UnitCode
    due_at: AwareDatetime
    days_overdue: int = Field(ge=1)


class TaskDueSoon(Payload):
    """A reminder before a due date (14 and 3 days before; a reminder day the watcher missed
    is made up with the days actually left)."""

    task_id: Id
    unit: UnitCode
    due_at: AwareDatetime
    days_left: int = Field(ge=0)


class ItemChanged(Payload):
    item_id: Id
    kind: ItemKind
    unit: UnitCode
    level: ItemLevel = ItemLevel.BLUE
    escalation: Escalation = Escalation.SUPERVISE


class ItemOpened(ItemChanged):
    """督办: an item is opened for its cause (`source_event_id`, the trigger's CloudEvent id);
    a later trigger of the same item (another message of the alert chain) is linked to it."""

    title: str = Field(default="", max_length=500)
    source_event_id: Id
    source_type: str = Field(default="", max_length=200)
    triggered_at: AwareDatetime
    """The trigger's `time`: the delay from it to the item's opening is measured."""
    ladder_from: date | None = None
    """The day the ladder counts from (a milestone's first day overdue); default the day opened."""
    due_at: AwareDatetime | None = None
    """When the cause must be remedied (a rectification deadline), if it has one."""


class ItemEscalated(ItemChanged):
    """The item climbs to `escalation` (约谈, 通报)."""

    reason: str = Field(default="", max_length=500)


class ItemClosed(ItemChanged):
    """The item is closed because its cause is gone (task completed, decision executed)."""

    resolution: str = Field(default="", max_length=2000)
    source_event_id: str = Field(default="", max_length=200)


class ItemRectified(Payload):
    """The unit under supervision reports its rectification 整改."""

    item_id: Id
    unit: UnitCode
    rectified_at: AwareDatetime
    note: Annotated[LongText, PERSONAL] = Field(min_length=1)


class ItemAccepted(Payload):
    """A supervisor accepts the rectification: the item is closed."""

    item_id: Id
    accepted_at: AwareDatetime
    note: Annotated[LongText, PERSONAL] = ""


class ItemReopened(Payload):
    """A supervisor finds the rectification wanting: the item is open again."""

    item_id: Id
    reopened_at: AwareDatetime
    reason: Annotated[LongText, PERSONAL] = Field(min_length=1)


class FindingRecorded(Payload):
    """An inspection finding 督查发现 that needs rectification by `target_unit` by `due_date`."""

    finding_id: Id
    target_unit: UnitCode
    title: ShortText
    description: Annotated[LongText, PERSONAL] = ""
    level: ItemLevel = ItemLevel.BLUE
    due_date: date
    recorded_at: AwareDatetime


class TrainingRecorded(Payload):
    """A unit records study hours (per person, measure 三十: at least 60 a year) or a legal
    lecture (the district government: at least two a year).

    Version 2 names the hours `study_hours` (学时, the unit measure 三十 counts in); version 1
    called them `hours` and is upcast (`training_v1_to_v2`)."""

    training_id: Id
    unit: UnitCode
    kind: TrainingKind
    title: ShortText
    study_hours: float = Field(ge=0, le=1000)
    held_on: date


TRAINING_RECORDED = "supervision.training.recorded"


@upcaster(TRAINING_RECORDED, 1)
def training_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 of a training record called its study hours `hours`."""
    if "hours" in data:
        data["study_hours"] = data.pop("hours")
    return data


CONTRACT = TopicContract.of(
    SUPERVISION,
    "Plan tasks 任务, supervision items 督办事项 and training records of supervision 督查督办.",
    [
        EventContract(
            "supervision.task.progress_reported",
            TaskProgressReported,
            "task_id",
            "A unit reports its progress on a task (the first report of a task outside the "
            "plan's catalogue creates it).",
        ),
        EventContract(
            "supervision.task.completed",
            TaskCompleted,
            "task_id",
            "A unit completes a task, with its evidence.",
        ),
        EventContract(
            "supervision.task.overdue",
            TaskOverdue,
            "task_id",
            "A task passed its due date unfinished (once per day of lateness).",
            derived=True,
        ),
        EventContract(
            "supervision.task.due_soon",
            TaskDueSoon,
            "task_id",
            "A task falls due in 14 or 3 days.",
            derived=True,
        ),
        EventContract(
            "supervision.item.opened",
            ItemOpened,
            "item_id",
            "A supervision item is opened (督办).",
            derived=True,
        ),
        EventContract(
            "supervision.item.escalated",
            ItemEscalated,
            "item_id",
            "A supervision item climbs the ladder 督办 → 约谈 → 通报.",
            derived=True,
        ),
        EventContract(
            "supervision.item.closed",
            ItemClosed,
            "item_id",
            "A supervision item is closed because its cause is gone.",
            derived=True,
        ),
        EventContract(
            "supervision.item.rectified",
            ItemRectified,
            "item_id",
            "The unit under supervision reports its rectification 整改.",
        ),
        EventContract(
            "supervision.item.accepted",
            ItemAccepted,
            "item_id",
            "A supervisor accepts the rectification and closes the item.",
            posters=SUPERVISORS,
        ),
        EventContract(
            "supervision.item.reopened",
            ItemReopened,
            "item_id",
            "A supervisor reopens an item whose rectification falls short.",
            posters=SUPERVISORS,
        ),
        EventContract(
            "supervision.finding.recorded",
            FindingRecorded,
            "finding_id",
            "A supervisor records an inspection finding that needs rectification.",
            posters=SUPERVISORS,
        ),
        EventContract(
            TRAINING_RECORDED,
            TrainingRecorded,
            "training_id",
            "A unit records study hours or a legal lecture (measure 三十).",
            version=2,
        ),
    ],
)
