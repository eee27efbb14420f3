"""The worker's plan timer: reminders of revisions coming due, found by equality on a day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from emergency.config import Settings
from emergency.store import PLANS, TIMERS
from fazhi.bus import DayScan
from fazhi.contracts import derived_event
from fazhi.contracts.emergency import PlanRevisionDue
from fazhi.contracts.envelope import CloudEvent

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
    return derived_event(
        data,
        cause=f"{doc['_id']}\n{due.isoformat()}\n{days_left}",
        source=f"/units/{doc['owner_unit']}",
        time=now,
    )


REVISIONS: DayScan[Settings] = DayScan(
    "plan-revision",
    lambda _: 60.0,
    PLANS,
    "reminder_days",
    lambda doc, look: reminder_event(doc, look.day, look.now),
    TIMERS,
    first_look_days=FIRST_LOOK_DAYS,
)
