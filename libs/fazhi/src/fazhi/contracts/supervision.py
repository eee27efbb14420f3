"""The contract of `supervision.events`, owned by supervision 督查督办: the plan's tasks as their
units report on them, and the supervision items the platform opens on what is overdue."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, TopicContract
from fazhi.models import PERSONAL, Id, LongText, Payload, UnitCode
from fazhi.topology import SUPERVISION


class ItemKind(StrEnum):
    """What a supervision item is about (the platform opens items itself; no unit sends this)."""

    TASK_OVERDUE = "task_overdue"
    ALERT = "alert"
    ALERT_UNACKNOWLEDGED = "alert_unacknowledged"
    CASE_OVERDUE = "case_overdue"
    REQUEST_OVERDUE = "request_overdue"
    DECISION_EXECUTION = "decision_execution"
    INSPECTION_FINDING = "inspection_finding"


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


class ItemChanged(Payload):
    item_id: Id
    kind: ItemKind
    unit: UnitCode
    level: str = Field(min_length=1, max_length=32)


class ItemOpened(ItemChanged):
    """督办: the item is opened at the ladder's first level (or higher, for a grave cause)."""


class ItemEscalated(ItemChanged):
    """The item climbs to `level` (约谈, 通报)."""


class ItemClosed(ItemChanged):
    """The item is closed; `level` is the level it had reached."""

    resolution: str = Field(default="", max_length=2000)
    """How it was resolved (整改 accepted, cause gone); the items machine needs one."""


CONTRACT = TopicContract.of(
    SUPERVISION,
    "Plan tasks 任务 and supervision items 督办事项 of supervision 督查督办.",
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
            "A task passed its due date unfinished.",
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
            "A supervision item is closed.",
            derived=True,
        ),
    ],
)
