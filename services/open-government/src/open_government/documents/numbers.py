"""The registry's numbers (统一编号): one sequence document per issuing unit and year, raised by
one atomic `find_one_and_update` `$inc`, so concurrent requests get distinct, consecutive
numbers without a multi-document transaction; each document id gets its number once."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from open_government.domain.documents import format_number, sequence_key
from open_government.store import NUMBERS, SEQUENCES

Db = AsyncDatabase[dict[str, Any]]


class NumberConflict(ValueError):
    """The document id already has a number of another unit or year."""


async def issue_number(
    db: Db, *, unit: str, year: int, document_id: str, at: datetime
) -> dict[str, Any]:
    """The number of `document_id`: the one issued before, or the next of (unit, year).

    The document's claim is written first (its `_id` is the document id, so a second request
    for the same id waits for the first one's number instead of taking another). The sequence
    remembers the last document it numbered: a request retried after the `$inc` landed but
    before the claim was completed gets that same number again, so no number is lost."""
    claim = {"_id": document_id, "unit": unit, "year": year, "requested_at": at}
    try:
        await db[NUMBERS].insert_one(claim)
    except DuplicateKeyError:
        existing = await db[NUMBERS].find_one({"_id": document_id})
        assert existing is not None
        if (existing["unit"], existing["year"]) != (unit, year):
            raise NumberConflict(
                f"{document_id!r} is registered for {existing['unit']} in {existing['year']}"
            ) from None
        if existing.get("number"):
            return _public(existing)
    seq = await _next(db, sequence_key(unit, year), document_id)
    number = format_number(unit, year, seq)
    await db[NUMBERS].update_one(
        {"_id": document_id}, {"$set": {"seq": seq, "number": number, "issued_at": at}}
    )
    return {"document_id": document_id, "unit": unit, "year": year, "seq": seq, "number": number}


async def _next(db: Db, key: str, document_id: str) -> int:
    while True:
        with suppress(DuplicateKeyError):  # another request created it a moment ago
            await db[SEQUENCES].update_one(
                {"_id": key}, {"$setOnInsert": {"n": 0, "last": ""}}, upsert=True
            )
        raised = await db[SEQUENCES].find_one_and_update(
            {"_id": key, "last": {"$ne": document_id}},
            {"$inc": {"n": 1}, "$set": {"last": document_id}},
            return_document=ReturnDocument.AFTER,
        )
        if raised is not None:
            return int(raised["n"])
        current = await db[SEQUENCES].find_one({"_id": key})
        if current is not None and current.get("last") == document_id:
            return int(current["n"])  # this document took the last number already


async def issued(db: Db, document_id: str) -> dict[str, Any] | None:
    found = await db[NUMBERS].find_one({"_id": document_id})
    return _public(found) if found and found.get("number") else None


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_id": doc["_id"],
        "unit": doc["unit"],
        "year": doc["year"],
        "seq": doc["seq"],
        "number": doc["number"],
    }
