"""The request form's rate limit: at most `limit` submissions per client per window. Each
submission claims one of the window's `limit` slots by inserting it (`_id` client, window and
slot, unique), so concurrent submissions cannot overcount: an update with `$inc` would (the local
store loses concurrent increments). The client is its address hashed, never stored."""

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
    for slot in range(1, limit + 1):
        try:
            await db[RATE_LIMITS].insert_one(
                {"_id": f"{client}:{window}:{slot}", "client": client, "window": window}
            )
        except DuplicateKeyError:
            continue
        if slot == 1:  # the client's first submission in this window: forget the older ones
            await db[RATE_LIMITS].delete_many({"client": client, "window": {"$lt": window}})
        return True
    return False
