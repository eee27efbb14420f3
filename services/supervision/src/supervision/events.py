"""Event types owned by supervision 督查督办 and their payloads."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Id, LongText, Payload, UnitCode
from fazhi.topology import SUPERVISION
from supervision.domain import ItemKind
from supervision.store import ITEMS, TASKS

TOPIC = SUPERVISION.topic


class TaskProgressReported(Payload):
    task_id: Id
    unit: UnitCode
    progress_pct: int = Field(ge=0, le=100)
    note: LongText = ""
    reported_at: AwareDatetime


class TaskCompleted(Payload):
    task_id: Id
    unit: UnitCode
    completed_at: AwareDatetime
    evidence: LongText = Field(min_length=1)


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


CATALOG = EventCatalog.of(
    "supervision",
    TOPIC,
    [
        # Tasks outside the plan's catalogue may be reported too: the first report creates them.
        EventType(
            "supervision.task.progress_reported",
            TaskProgressReported,
            "task_id",
            TASKS,
            creates=True,
        ),
        EventType("supervision.task.completed", TaskCompleted, "task_id", TASKS, creates=True),
        EventType("supervision.task.overdue", TaskOverdue, "task_id", TASKS, derived=True),
        EventType(
            "supervision.item.opened", ItemChanged, "item_id", ITEMS, creates=True, derived=True
        ),
        EventType("supervision.item.escalated", ItemChanged, "item_id", ITEMS, derived=True),
        EventType("supervision.item.closed", ItemChanged, "item_id", ITEMS, derived=True),
    ],
)
