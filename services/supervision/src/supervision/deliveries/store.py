"""Subscriptions, deliveries and attempts: collections, indexes and hot queries."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store import HotQuery

SUBSCRIPTIONS = "subscriptions"
"""One per subscription (`_id` `sub_…`): unit, URL, kinds, status, its secret wrapped."""
DELIVERIES = "deliveries"
"""One per event and subscription (`_id` the `webhook-id`): the body, the state and the last
attempts; a pending one carries the minute and day its next attempt falls due."""
ATTEMPTS = "delivery_attempts"
"""Insert-only claims (`_id` `<delivery id>#<n>`): whoever inserts one makes attempt n, so two
workers never make the same attempt."""
RETRY_MARK = "delivery-retries"
"""The retry scan's watermark in supervision's `watch` collection."""

HOT_QUERIES = (
    HotQuery(SUBSCRIPTIONS, {"unit": "justice", "status": "active"}, "deliveries: a unit's"),
    HotQuery(SUBSCRIPTIONS, {"kinds": "alerts", "status": "active"}, "deliveries: staff alerts"),
    HotQuery(SUBSCRIPTIONS, {"unit": "justice"}, "GET /v1/subscriptions"),
    HotQuery(SUBSCRIPTIONS, {"_id": "sub_1"}, "every subscription route, every attempt"),
    HotQuery(DELIVERIES, {"_id": "msg_1"}, "an attempt, a redelivery"),
    HotQuery(DELIVERIES, {"subscription_id": "sub_1"}, "GET /v1/subscriptions/{id}/deliveries"),
    HotQuery(DELIVERIES, {"retry_minute": "2026-07-20T14:05"}, "retry scan: due this minute"),
    HotQuery(DELIVERIES, {"retry_day": "2026-07-20"}, "retry scan after a long stop"),
    HotQuery(ATTEMPTS, {"_id": "msg_1#2"}, "the claim of an attempt"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for field in ("unit", "status", "kinds"):
        await db[SUBSCRIPTIONS].create_index([(field, ASCENDING)], name=field)
    for field in ("subscription_id", "retry_minute", "retry_day"):
        await db[DELIVERIES].create_index([(field, ASCENDING)], name=field)
