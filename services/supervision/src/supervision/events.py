"""Event types owned by supervision 督查督办 and their payloads."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Id, LongText, Payload, UnitCode

TOPIC = "supervision.events"

ItemKind = Literal[
    "task_overdue",
    "alert",
    "alert_unacknowledged",
    "case_overdue",
    "request_overdue",
    "decision_execution",
    "inspection_finding",
]


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
        EventType("supervision.task.progress_reported", TaskProgressReported),
        EventType("supervision.task.completed", TaskCompleted),
        EventType("supervision.task.overdue", TaskOverdue, derived=True),
        EventType("supervision.item.opened", ItemChanged, derived=True),
        EventType("supervision.item.escalated", ItemChanged, derived=True),
        EventType("supervision.item.closed", ItemChanged, derived=True),
    ],
)
