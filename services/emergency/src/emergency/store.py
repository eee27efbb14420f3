"""MongoDB collections of emergency and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store import OWNERS, VERSION, HotQuery

INCIDENTS = "incidents"
INCIDENT_LEVELS = "incident_levels"
"""Insert-only: one row per response level change of an incident."""
ALERTS = "alerts"
ACKNOWLEDGEMENTS = "acknowledgements"
"""Insert-only: one row per acknowledgement of an alert by staff."""
ACK_BUCKET = "ack_bucket"
"""On an active message awaiting acknowledgement: the minute it was sent (`minute_bucket`)."""
EXPIRES_BUCKET = "expires_bucket"
"""On an active message: the minute it expires."""
TIMERS = "timers"
"""One document per worker timer: the minute it has looked through."""
CLOSED_DAY = "closed_day"
"""On a closed incident whose private part still names persons: the day it closed."""
NOTICES = "notices"
"""Public notices derived from alerts and incidents, as last published."""
PLANS = "plans"
PLAN_DRILLS = "plan_drills"
"""Insert-only: one row per drill of a plan."""
SUPPLIES = "supplies"
FORCES = "forces"
FORCE_HISTORY = "force_history"
"""Insert-only: one row per call-up or compensation of a force."""
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published."""


HOT_QUERIES = (
    HotQuery(
        INCIDENTS, {"_id": "I-1"}, "worker load, owner check at ingest, GET /v1/incidents/{id}"
    ),
    HotQuery(INCIDENTS, {"_id": "I-1", VERSION: 3}, "worker save"),
    HotQuery(INCIDENTS, {"status": "responding"}, "GET /v1/incidents?status=, the board"),
    HotQuery(
        INCIDENTS,
        {"status": "responding", "owner_units": "emergency-management"},
        "GET /v1/incidents?status= with a department key",
    ),
    HotQuery(INCIDENTS, {CLOSED_DAY: "2026-11-01"}, "worker timer: personal data to purge"),
    HotQuery(INCIDENT_LEVELS, {"incident_id": "I-1"}, "GET /v1/incidents/{id}: its levels"),
    HotQuery(ALERTS, {"_id": "A-1"}, "worker load, owner check at ingest, GET /v1/alerts/{id}"),
    HotQuery(ALERTS, {"_id": "A-1", VERSION: 3}, "worker save"),
    HotQuery(ACKNOWLEDGEMENTS, {"alert_id": "A-1"}, "GET /v1/alerts/{id}: its acknowledgements"),
    HotQuery(ALERTS, {"status": "active"}, "GET /v1/alerts?active=true, the console"),
    HotQuery(
        ALERTS,
        {"status": "active", "owner_units": "emergency-management"},
        "GET /v1/alerts?active=true with a department key",
    ),
    HotQuery(ALERTS, {EXPIRES_BUCKET: "2026-07-20T14:05"}, "worker timer: alerts expiring"),
    HotQuery(ALERTS, {ACK_BUCKET: "2026-07-20T14:05"}, "worker timer: acknowledgements due"),
    HotQuery(TIMERS, {"_id": "alert-expiry"}, "worker timer: where it stands"),
    HotQuery(NOTICES, {"_id": "N-1"}, "worker load, GET /v1/notices/{id}"),
    HotQuery(PLANS, {"_id": "P-1"}, "worker load, GET /v1/plans/{id}"),
    HotQuery(PLANS, {"reminder_days": "2026-11-01"}, "worker timer: plan revision reminders"),
    HotQuery(PLAN_DRILLS, {"plan_id": "P-1"}, "GET /v1/plans/{id}: its drills"),
    HotQuery(SUPPLIES, {"_id": "S-1"}, "worker load, GET /v1/supplies/{id}"),
    HotQuery(SUPPLIES, {"status": "low"}, "GET /v1/supplies (below their minimum)"),
    HotQuery(
        SUPPLIES,
        {"status": "low", "owner_units": "emergency-management"},
        "GET /v1/supplies with a department key",
    ),
    HotQuery(FORCES, {"_id": "F-1"}, "worker load, GET /v1/forces/{id}"),
    HotQuery(FORCE_HISTORY, {"force_id": "F-1"}, "GET /v1/forces/{id}: its call-ups"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[INCIDENTS].create_index([("occurred_at", DESCENDING)], name="occurred_at")
    await db[INCIDENTS].create_index(
        [("status", ASCENDING), ("occurred_at", DESCENDING), ("_id", DESCENDING)], name="status"
    )
    await db[INCIDENTS].create_index(
        [("status", ASCENDING), (OWNERS, ASCENDING)], name="status_owner"
    )
    await db[INCIDENTS].create_index(
        [("grade", ASCENDING), ("occurred_at", DESCENDING)], name="grade"
    )
    await db[ALERTS].create_index(
        [("status", ASCENDING), ("expires", ASCENDING)], name="status_expires"
    )
    await db[ALERTS].create_index([("effective", DESCENDING)], name="effective")
    await db[ALERTS].create_index([("status", ASCENDING), (OWNERS, ASCENDING)], name="status_owner")
    await db[ALERTS].create_index(
        [("status", ASCENDING), ("level_rank", DESCENDING), ("_id", DESCENDING)], name="status_rank"
    )
    await db[ALERTS].create_index(
        [("status", ASCENDING), ("sent", DESCENDING), ("_id", DESCENDING)], name="status_sent"
    )
    await db[ALERTS].create_index([(EXPIRES_BUCKET, ASCENDING)], name=EXPIRES_BUCKET)
    await db[ALERTS].create_index([(ACK_BUCKET, ASCENDING)], name=ACK_BUCKET)
    await db[INCIDENTS].create_index([(CLOSED_DAY, ASCENDING)], name=CLOSED_DAY)
    await db[INCIDENT_LEVELS].create_index([("incident_id", ASCENDING)], name="incident_id")
    await db[ACKNOWLEDGEMENTS].create_index([("alert_id", ASCENDING)], name="alert_id")
    await db[PLANS].create_index([("reminder_days", ASCENDING)], name="reminder_days")
    await db[PLAN_DRILLS].create_index([("plan_id", ASCENDING)], name="plan_id")
    await db[SUPPLIES].create_index([("status", ASCENDING), ("_id", ASCENDING)], name="status")
    await db[SUPPLIES].create_index(
        [("status", ASCENDING), (OWNERS, ASCENDING)], name="status_owner"
    )
    await db[FORCE_HISTORY].create_index([("force_id", ASCENDING)], name="force_id")
