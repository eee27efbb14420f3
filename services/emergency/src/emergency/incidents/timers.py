"""The worker's purge timer: the persons a closed incident named are erased once the
retention after its closing day ends. Candidates are found by equality on the closing day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from emergency.config import Settings
from emergency.store import CLOSED_DAY, INCIDENTS, PRIVATE, TIMERS
from fazhi.bus import DayScan
from fazhi.contracts import derived_event
from fazhi.contracts.emergency import PersonalDataPurged
from fazhi.contracts.envelope import CloudEvent

FIRST_LOOK_DAYS = 30
"""The closing days the timer looks through the first time it ever runs."""


def purge_event(doc: dict[str, Any], now: datetime) -> CloudEvent | None:
    persons = (doc.get(PRIVATE) or {}).get("affected_persons") or []
    if doc.get(CLOSED_DAY) is None:
        return None
    unit = (doc.get("owner_units") or ["emergency-management"])[0]
    return derived_event(
        PersonalDataPurged(incident_id=doc["_id"], purged_at=now, persons=len(persons)),
        cause=f"{doc['_id']}\n{doc[CLOSED_DAY]}",
        source=f"/units/{unit}",
        time=now,
    )


def _retention_ended(settings: Settings, today: date) -> date:
    """The closing day whose retention ends today."""
    return today - timedelta(days=settings.affected_persons_retention_days)


PURGE = DayScan(
    "personal-data-purge",
    lambda _: 60.0,
    INCIDENTS,
    CLOSED_DAY,
    lambda doc, look: purge_event(doc, look.now),
    TIMERS,
    first_look_days=FIRST_LOOK_DAYS,
    last_day=_retention_ended,
)
