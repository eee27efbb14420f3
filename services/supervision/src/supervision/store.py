"""MongoDB collections of supervision and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

TASKS = "tasks"
ITEMS = "items"


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[TASKS].create_index(
        [("unit", ASCENDING), ("updated_at", DESCENDING)], name="unit_updated"
    )
    await db[TASKS].create_index([("due_at", ASCENDING)], name="due_at")
    await db[ITEMS].create_index([("status", ASCENDING), ("due_at", ASCENDING)], name="status_due")
    await db[ITEMS].create_index(
        [("unit", ASCENDING), ("opened_at", DESCENDING)], name="unit_opened"
    )
