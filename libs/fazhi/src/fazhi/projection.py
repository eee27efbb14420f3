"""Applying an event to one MongoDB document exactly once, with single-document atomicity only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from fazhi.envelope import CloudEvent

APPLIED = "_applied"


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    doc_id: str,
    event: CloudEvent,
    update: Mapping[str, Any],
    *,
    upsert: bool = True,
) -> bool:
    """Apply `update` to document `doc_id` unless this event was applied to it already.

    The event's key is pushed into the document's `_applied` list in the same atomic update,
    so a replayed event (after a crash before the ledger write) changes nothing.
    Returns whether the update was applied.
    """
    stages = {k: dict(v) for k, v in update.items()}
    stages.setdefault("$push", {})[APPLIED] = event.key
    try:
        result = await collection.update_one(
            {"_id": doc_id, APPLIED: {"$ne": event.key}}, stages, upsert=upsert
        )
    except DuplicateKeyError:
        # The document exists and already holds this event: the filter missed, the upsert collided.
        return False
    return result.modified_count == 1 or result.upserted_id is not None
