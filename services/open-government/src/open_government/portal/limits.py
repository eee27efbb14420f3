"""The request form's rate limit: at most `limit` submissions per client per window, counted in
one document per client (its address hashed, never stored) by atomic updates."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from open_government.store import RATE_LIMITS

FORM_LIMIT = 5
FORM_WINDOW_S = 600


def client_key(address: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}\n{address}".encode()).hexdigest()[:32]


async def allow(
    db: AsyncDatabase[dict[str, Any]],
    client: str,
    at: datetime,
    *,
    limit: int = FORM_LIMIT,
    window_s: int = FORM_WINDOW_S,
) -> bool:
    """Count one submission of `client` at `at`; whether it is within the limit."""
    window = int(at.timestamp()) // window_s
    counted = await db[RATE_LIMITS].find_one_and_update(
        {"_id": client, "window": window}, {"$inc": {"n": 1}}, return_document=True
    )
    if counted is None:
        try:
            await db[RATE_LIMITS].replace_one(
                {"_id": client}, {"window": window, "n": 1}, upsert=True
            )
        except DuplicateKeyError:  # a concurrent first submission: count this one again
            return await allow(db, client, at, limit=limit, window_s=window_s)
        return True
    return int(counted["n"]) <= limit
