"""The deadline watcher 到期监测: a worker timer that, for each day since it last looked, finds
the tasks whose watch day it is and the items whose next ladder step falls due, by equality on
a day field (never a range over all tasks), and publishes reminders, overdue notices and
escalations with ids derived from the task and the day (or the item and the step), so a second
look, a restart or a second worker never doubles one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.supervision import (
    Escalation,
    ItemEscalated,
    ItemKind,
    ItemLevel,
    ItemStatus,
    TaskDueSoon,
    TaskOverdue,
)
from fazhi.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from fazhi.models import Payload
from fazhi.publisher import Publisher
from supervision.domain import Ladder, Overdue, Reminder, watch_step
from supervision.events import CATALOG
from supervision.store import ITEMS, MEASURE, TASKS, WATCH, day_key

log = logging.getLogger(__name__)

WATCH_ID = "deadline-watch"
MAX_CATCH_UP_DAYS = 366
"""A watcher down longer than this looks back no further (what was due then is watched today:
every unfinished milestone is put under watch from the day the worker starts)."""
PUBLISH_CHUNK = 500


def task_events(doc: dict[str, Any], today: date, now: datetime) -> list[CloudEvent]:
    if doc.get("kind") == MEASURE or doc.get("status") == "completed" or not doc.get("due_at"):
        return []
    due_at: datetime = doc["due_at"]
    due_on = due_at.astimezone(CHINA_TZ).date()
    unit = doc["unit"]
    data: Payload
    match watch_step(due_on, today):
        case Overdue(days_overdue=days):
            type_ = "supervision.task.overdue"
            data = TaskOverdue(task_id=doc["_id"], unit=unit, due_at=due_at, days_overdue=days)
            rule = f"{type_}/{days}"
        case Reminder(days_left=left):
            type_ = "supervision.task.due_soon"
            data = TaskDueSoon(task_id=doc["_id"], unit=unit, due_at=due_at, days_left=left)
            rule = f"{type_}/{day_key(due_on)}/{left}"
    return [_event(type_, doc["_id"], unit, data.model_dump(mode="json"), rule, now)]


def item_events(
    doc: dict[str, Any], today: date, now: datetime, ladder: Ladder
) -> list[CloudEvent]:
    """Every ladder step the item has reached and not yet taken, lowest first."""
    if doc.get("status") != ItemStatus.OPEN:
        return []
    start = date.fromisoformat(doc["ladder_from"])
    days_open = (today - start).days
    current = Escalation(doc.get("escalation", Escalation.SUPERVISE))
    events = []
    for step in ladder.steps_due(current, days_open):
        data = ItemEscalated(
            item_id=doc["_id"],
            kind=ItemKind(doc["kind"]),
            unit=doc["unit"],
            level=ItemLevel(doc["level"]),
            escalation=step,
            reason=f"已督办{days_open}天仍未办结，升级为{step.label_zh}",
        )
        type_ = "supervision.item.escalated"
        events.append(
            _event(
                type_, doc["_id"], doc["unit"], data.model_dump(mode="json"), f"{type_}/{step}", now
            )
        )
    return events


def _event(
    type_: str, subject: str, unit: str, data: dict[str, Any], rule: str, now: datetime
) -> CloudEvent:
    return new_event(
        type=type_,
        source=f"/units/{unit}",
        subject=subject,
        id=derived_id(subject, rule),
        time=now,
        data=data,
    )


@dataclass
class DeadlineWatcher:
    db: AsyncDatabase[dict[str, Any]]
    publisher: Publisher
    ladder: Ladder
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(CHINA_TZ))
    _sent: set[str] = field(default_factory=set)
    _sent_day: date | None = None

    async def tick(self) -> int:
        """One look: every day since the last finished one, up to today. Returns the number
        of events published."""
        now = self.clock().astimezone(CHINA_TZ)
        today = now.date()
        if self._sent_day != today:
            self._sent, self._sent_day = set(), today
        state = await self.db[WATCH].find_one({"_id": WATCH_ID})
        through = date.fromisoformat(state["through"]) if state else today - timedelta(days=1)
        first = max(through + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS))
        events: list[CloudEvent] = []
        day = first
        while day <= today:
            key = day_key(day)
            async for doc in self.db[TASKS].find({"watch_day": key}):
                events += task_events(doc, today, now)
            async for doc in self.db[ITEMS].find({"escalate_day": key}):
                events += item_events(doc, today, now, self.ladder)
            day += timedelta(days=1)
        # Published already today and not yet projected: the next look would only repeat it.
        fresh = [e for e in events if e.id not in self._sent]
        for start in range(0, len(fresh), PUBLISH_CHUNK):
            chunk = fresh[start : start + PUBLISH_CHUNK]
            await self.publisher.publish(CATALOG.topic, chunk)
            self._sent.update(e.id for e in chunk)
        # Today is looked at again on every tick (its projections may still be on their way).
        await self.db[WATCH].update_one(
            {"_id": WATCH_ID},
            {"$set": {"through": day_key(today - timedelta(days=1)), "looked_at": now}},
            upsert=True,
        )
        if fresh:
            log.info("deadline watch published", extra={"events": len(fresh)})
        return len(fresh)
