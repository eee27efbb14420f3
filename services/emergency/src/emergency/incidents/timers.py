"""The worker's purge timer: the persons a closed incident named are erased once the
retention after its closing day ends. Candidates are found by equality on the closing day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from emergency.config import Settings
from emergency.store import CLOSED_DAY, INCIDENTS, PRIVATE, TIMERS
from fazhi.contracts.emergency import PersonalDataPurged
from fazhi.envelope import CHINA_TZ, CloudEvent, derived_id, new_event
from fazhi.topology import EMERGENCY
from fazhi.worker import Timer, TimerContext

FIRST_LOOK_DAYS = 30
"""The closing days the timer looks through the first time it ever runs."""


def purge_event(doc: dict[str, Any], now: datetime) -> CloudEvent | None:
    persons = (doc.get(PRIVATE) or {}).get("affected_persons") or []
    if doc.get(CLOSED_DAY) is None:
        return None
    unit = (doc.get("owner_units") or ["emergency-management"])[0]
    data = PersonalDataPurged(incident_id=doc["_id"], purged_at=now, persons=len(persons))
    return new_event(
        type="emergency.incident.personal_data_purged",
        source=f"/units/{unit}",
        subject=doc["_id"],
        id=derived_id(
            f"{doc['_id']}\n{doc[CLOSED_DAY]}", "emergency.incident.personal_data_purged"
        ),
        time=now,
        data=data.model_dump(mode="json"),
    )


def days_between(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


async def purge_personal_data(t: TimerContext) -> None:
    settings = t.settings
    assert isinstance(settings, Settings)
    now = datetime.now(CHINA_TZ)
    last = now.date() - timedelta(days=settings.affected_persons_retention_days)
    cursor = await t.db[TIMERS].find_one({"_id": "personal-data-purge"})
    done = cursor.get("through") if cursor else None
    first = date.fromisoformat(done) if isinstance(done, str) else last - timedelta(FIRST_LOOK_DAYS)
    events = []
    for day in days_between(first, last):
        async for doc in t.db[INCIDENTS].find({CLOSED_DAY: day}):
            event = purge_event(doc, now)
            if event is not None:
                events.append(event)
    if events:
        await t.publisher.publish(EMERGENCY.topic, events)
    await t.db[TIMERS].replace_one(
        {"_id": "personal-data-purge"}, {"through": last.isoformat()}, upsert=True
    )


TIMERS_OF_INCIDENTS = (Timer("personal-data-purge", lambda _: 60.0, purge_personal_data),)
