"""The deadline watcher 到期监测: two day scans of the worker that, for each day since they last
looked, find the tasks whose watch day it is and the items whose next ladder step falls due, by
equality on a day field (never a range over all tasks), and publish reminders, overdue notices
and escalations with ids derived from the task and the day (or the item and the step), so a
second look, a restart or a second worker never doubles one."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from fazhi.bus import DayLook, DayScan
from fazhi.contracts import derived_event
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.contracts.models import Payload
from fazhi.contracts.supervision import (
    Escalation,
    ItemEscalated,
    ItemKind,
    ItemLevel,
    ItemStatus,
    TaskDueSoon,
    TaskOverdue,
)
from supervision.config import Settings
from supervision.domain import Ladder, Overdue, Reminder, watch_step
from supervision.store import ITEMS, MEASURE, TASKS, WATCH, day_key

MAX_CATCH_UP_DAYS = 366
"""A watcher down longer than this looks back no further (what was due then is watched today:
every unfinished milestone is put under watch from the day the worker starts)."""


def task_events(doc: dict[str, Any], today: date, now: datetime) -> list[CloudEvent]:
    if doc.get("kind") == MEASURE or doc.get("status") == "completed" or not doc.get("due_at"):
        return []
    due_at: datetime = doc["due_at"]
    due_on = due_at.astimezone(CHINA_TZ).date()
    unit = doc["unit"]
    data: Payload
    match watch_step(due_on, today):
        case Overdue(days_overdue=days):
            data = TaskOverdue(task_id=doc["_id"], unit=unit, due_at=due_at, days_overdue=days)
            rule = str(days)
        case Reminder(days_left=left):
            data = TaskDueSoon(task_id=doc["_id"], unit=unit, due_at=due_at, days_left=left)
            rule = f"{day_key(due_on)}/{left}"
    return [_event(data, doc["_id"], unit, rule, now)]


def item_events(
    doc: dict[str, Any], today: date, now: datetime, ladder: Ladder
) -> list[CloudEvent]:
    """Every ladder step the item has reached and not yet taken, lowest first."""
    if doc.get("status") != ItemStatus.OPEN:
        return []
    start = date.fromisoformat(doc["ladder_from"])
    days_open = (today - start).days
    current = Escalation(doc.get("escalation", Escalation.SUPERVISE))
    return [
        _event(
            ItemEscalated(
                item_id=doc["_id"],
                kind=ItemKind(doc["kind"]),
                unit=doc["unit"],
                level=ItemLevel(doc["level"]),
                escalation=step,
                reason=f"已督办{days_open}天仍未办结，升级为{step.label_zh}",
            ),
            doc["_id"],
            doc["unit"],
            str(step),
            now,
        )
        for step in ladder.steps_due(current, days_open)
    ]


def _event(data: Payload, subject: str, unit: str, rule: str, now: datetime) -> CloudEvent:
    return derived_event(data, cause=subject, rule=rule, source=f"/units/{unit}", time=now)


@cache
def _ladder(days: str) -> Ladder:
    return Ladder.parse(days)


def _due_tasks(doc: dict[str, Any], look: DayLook[Settings]) -> list[CloudEvent]:
    return task_events(doc, look.today, look.now)


def _due_steps(doc: dict[str, Any], look: DayLook[Settings]) -> list[CloudEvent]:
    return item_events(doc, look.today, look.now, _ladder(look.settings.ladder_days))


def _interval(settings: Settings) -> float:
    return settings.watch_interval_s


TASK_WATCH = DayScan(
    "deadline-watch",
    _interval,
    TASKS,
    "watch_day",
    _due_tasks,
    WATCH,
    max_back_days=MAX_CATCH_UP_DAYS,
)
"""Reminders before a task's due date and overdue notices after it."""
ITEM_WATCH = DayScan(
    "escalation-watch",
    _interval,
    ITEMS,
    "escalate_day",
    _due_steps,
    WATCH,
    max_back_days=MAX_CATCH_UP_DAYS,
)
"""The escalation ladder's steps that fall due."""
