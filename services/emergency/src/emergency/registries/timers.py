"""The worker's plan timer: reminders of revisions coming due, found by equality on a day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from emergency.store import PLANS, TIMERS
from fazhi.contracts.emergency import PlanRevisionDue
from fazhi.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from fazhi.topology import EMERGENCY
from fazhi.worker import Timer, TimerContext

FIRST_LOOK_DAYS = 7


def reminder_event(doc: dict[str, Any], day: date, now: datetime) -> CloudEvent | None:
    """The reminder `day` brings for a plan, if it is one of its reminder days."""
    if day.isoformat() not in doc.get("reminder_days", []):
        return None
    due = date.fromisoformat(doc["revision_due_on"])
    days_left = (due - day).days
    if days_left < 0:
        return None
    data = PlanRevisionDue(
        plan_id=doc["_id"],
        owner_unit=doc["owner_unit"],
        title=doc["title"],
        revision_due_on=due,
        days_left=days_left,
    )
    return new_event(
        type="emergency.plan.revision_due",
        source=f"/units/{doc['owner_unit']}",
        subject=doc["_id"],
        id=derived_id(
            f"{doc['_id']}\n{due.isoformat()}\n{days_left}", "emergency.plan.revision_due"
        ),
        time=now,
        data=data.model_dump(mode="json"),
    )


async def remind_revisions(t: TimerContext) -> None:
    now = datetime.now(CHINA_TZ)
    today = now.date()
    cursor = await t.db[TIMERS].find_one({"_id": "plan-revision"})
    done = cursor.get("through") if cursor else None
    first = (
        date.fromisoformat(done) if isinstance(done, str) else today - timedelta(FIRST_LOOK_DAYS)
    )
    events = []
    day = first
    while day <= today:
        async for doc in t.db[PLANS].find({"reminder_days": day.isoformat()}):
            event = reminder_event(doc, day, now)
            if event is not None:
                events.append(event)
        day += timedelta(days=1)
    if events:
        await t.publisher.publish(EMERGENCY.topic, events)
    await t.db[TIMERS].replace_one(
        {"_id": "plan-revision"}, {"through": today.isoformat()}, upsert=True
    )


TIMERS_OF_REGISTRIES = (Timer("plan-revision", lambda _: 60.0, remind_revisions),)
