"""MongoDB collections of open-government and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.projection import VERSION, HotQuery

REQUESTS = "requests"
DOCUMENTS = "documents"
DECISIONS = "decisions"
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published."""


HOT_QUERIES = (
    HotQuery(REQUESTS, {"_id": "R-1"}, "worker load, owner check at ingest, GET /v1/requests/{id}"),
    HotQuery(REQUESTS, {"_id": "R-1", VERSION: 3}, "worker save"),
    HotQuery(
        DOCUMENTS, {"_id": "D-1"}, "worker load, owner check at ingest, GET /v1/documents/{id}"
    ),
    HotQuery(DOCUMENTS, {"_id": "D-1", VERSION: 3}, "worker save"),
    HotQuery(
        DECISIONS, {"_id": "MD-1"}, "worker load, owner check at ingest, GET /v1/decisions/{id}"
    ),
    HotQuery(DECISIONS, {"_id": "MD-1", VERSION: 3}, "worker save"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[REQUESTS].create_index([("due_at", ASCENDING)], name="due_at")
    await db[REQUESTS].create_index([("received_at", DESCENDING)], name="received_at")
    await db[DOCUMENTS].create_index([("tokens", ASCENDING)], name="tokens")
    await db[DOCUMENTS].create_index([("published_at", DESCENDING)], name="published_at")
