"""MongoDB collections of petition-mediation and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.projection import VERSION, HotQuery

CASES = "cases"
CASE_HISTORY = "case_history"
"""Insert-only: one row per step of a case (filing, acceptance, decision, ...)."""
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published."""


HOT_QUERIES = (
    HotQuery(CASES, {"_id": "C-1"}, "worker load, owner check at ingest, GET /v1/cases/{id}"),
    HotQuery(CASES, {"_id": "C-1", VERSION: 3}, "worker save"),
    HotQuery(CASE_HISTORY, {"case_id": "C-1"}, "GET /v1/cases/{id}: its history"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[CASES].create_index(
        [("case_type", ASCENDING), ("filed_at", DESCENDING)], name="type_filed"
    )
    await db[CASES].create_index([("due_at", ASCENDING)], name="due_at")
    await db[CASES].create_index(
        [("respondent_unit", ASCENDING), ("status", ASCENDING)], name="unit_status"
    )
    await db[CASE_HISTORY].create_index([("case_id", ASCENDING)], name="case_id")
