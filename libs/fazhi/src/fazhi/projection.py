"""Applying an event to one MongoDB document exactly once, with single-document atomicity only.

Each aggregate document records the keys of the events applied to it (`_applied`) and the
units that own it (`owner_units`); an event from another unit is refused, never applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from fazhi.consumer import PoisonError
from fazhi.envelope import CloudEvent

APPLIED = "_applied"
OWNERS = "owner_units"


def owned_by(unit: str | None) -> dict[str, Any]:
    """Filter of documents the unit may change (documents from before ownership: anyone)."""
    return {"$or": [{OWNERS: unit}, {OWNERS: {"$exists": False}}]}


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    doc_id: str,
    event: CloudEvent,
    update: Mapping[str, Any],
    *,
    create: bool = False,
    any_unit: bool = False,
    guard: Mapping[str, Any] | None = None,
    refusal: str = "the aggregate is not in a state that allows this event",
) -> bool:
    """Apply `update` to document `doc_id` unless this event was applied to it already.

    The event's key is pushed into `_applied` in the same atomic update, so a replayed event
    (after a crash before the ledger write) changes nothing and this returns False. With
    `create`, a missing document is created, owned by the event's unit; `any_unit` lets any unit
    change it (an acknowledgement by staff of another unit). `guard` is a filter the
    document must match (a state the event is allowed in). Raises `PoisonError` (the record goes
    to the dead-letter topic) when the document is missing and may not be created, belongs to
    another unit, or fails the guard.
    """
    stages: dict[str, dict[str, Any]] = {k: dict(v) for k, v in update.items()}
    stages.setdefault("$push", {})[APPLIED] = event.key
    owner = {} if any_unit else owned_by(event.unit)
    query = {"_id": doc_id, APPLIED: {"$ne": event.key}, "$and": [owner, dict(guard or {})]}
    for _ in range(2):
        if (await collection.update_one(query, stages)).matched_count:
            return True
        doc = await collection.find_one({"_id": doc_id}, {OWNERS: 1, APPLIED: 1})
        if doc is None:
            if not create:
                raise PoisonError(f"{doc_id!r} does not exist (yet): {event.type} cannot apply")
            inserting = {
                **stages,
                "$setOnInsert": {**stages.get("$setOnInsert", {}), OWNERS: [event.unit]},
            }
            try:
                await collection.update_one({"_id": doc_id}, inserting, upsert=True)
            except DuplicateKeyError:
                continue  # created meanwhile by another writer: apply to it as usual
            return True
        if event.key in doc.get(APPLIED, ()):
            return False
        owners = doc.get(OWNERS)
        if owners is not None and event.unit not in owners and not any_unit:
            raise PoisonError(
                f"unit {event.unit!r} does not own {doc_id!r} (owners: {', '.join(owners)})"
            )
        raise PoisonError(f"{event.type} refused for {doc_id!r}: {refusal}")
    raise PoisonError(f"{doc_id!r} kept changing while {event.type} was applied")
