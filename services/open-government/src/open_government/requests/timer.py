"""The overdue timer: a day scan of the requests due on each day up to yesterday (one indexed
equality per day on `due_date`), which publishes `opengov.request.overdue` for those still
unanswered, with the id their derivation gives, so every look and every worker publish the same
event and its consumers keep one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fazhi.bus import DayLook, DayScan
from fazhi.contracts import derived_event
from fazhi.contracts.envelope import CloudEvent
from fazhi.rules import REMINDER_DAYS
from fazhi.store import decode
from open_government.config import Settings
from open_government.domain.requests import DisclosureRequest
from open_government.requests.flows import (
    OPEN_STATES,
    overdue,
    overdue_cause,
    reminder,
    reminder_cause,
)
from open_government.store import REQUESTS, TIMERS

LOOKBACK_DAYS = 60
"""How many past due days a look reaches back at most; a request older than that which was
never found overdue (the worker was down two months) is found when its next event is
projected."""
_FIELDS = {"request": 1, "status": 1, "unit": 1, "owner_units": 1, "overdue": 1}


def overdue_event(doc: dict[str, Any], look: DayLook[Settings]) -> CloudEvent | None:
    if doc.get("overdue") or doc.get("status") not in OPEN_STATES:
        return None
    late = overdue(doc, decode(DisclosureRequest, doc["request"]), look.today)
    if late is None:
        return None
    return derived_event(late, cause=overdue_cause(late), source=f"/units/{late.unit}")


def reminder_event(doc: dict[str, Any], look: DayLook[Settings]) -> CloudEvent | None:
    if doc.get("status") not in OPEN_STATES:
        return None
    soon = reminder(doc, decode(DisclosureRequest, doc["request"]), look.today)
    if soon is None:
        return None
    return derived_event(soon, cause=reminder_cause(soon), source=f"/units/{soon.unit}")


def _reminder_horizon(settings: Settings, today: date) -> date:
    """The last due day a request about to pass today can have."""
    return today + timedelta(days=REMINDER_DAYS)


def _yesterday(settings: Settings, today: date) -> date:
    """A request due yesterday is overdue today."""
    return today - timedelta(days=1)


def _interval(settings: Settings) -> float:
    return settings.overdue_scan_s


OVERDUE = DayScan(
    "request-overdue",
    _interval,
    REQUESTS,
    "due_date",
    overdue_event,
    TIMERS,
    first_look_days=LOOKBACK_DAYS - 1,
    last_day=_yesterday,
    max_back_days=LOOKBACK_DAYS - 1,
    fields=_FIELDS,
)
DUE_SOON = DayScan(
    "request-due-soon",
    _interval,
    REQUESTS,
    "due_date",
    reminder_event,
    TIMERS,
    first_look_days=REMINDER_DAYS,
    last_day=_reminder_horizon,
    max_back_days=REMINDER_DAYS,
    fields=_FIELDS,
)
"""`opengov.request.due_soon` once per request and due date, as the due day comes within
`REMINDER_DAYS` (a request received or moved inside that window is reminded when projected)."""
