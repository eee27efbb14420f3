"""The registry's numbers (统一编号): gap-free and unique per issuing unit and year under
concurrent requests, with no multi-document transaction.

What makes a number taken is one insert: a claim whose `_id` is the unit, the year and the
number (`gov-office:2026:7`), unique in every MongoDB-protocol store, and whose `document_id` is
unique too, so a document gets one number. One sequence document per (unit, year) holds the last
number known to be taken, where the next request starts looking; it may lag (it is only a hint),
never lead, so no number is skipped. An update alone (`find_one_and_update` with `$inc`) would be
enough on MongoDB, but FerretDB v1 applies updates as a read, then a write, and loses
concurrent increments (50 concurrent `$inc` from 5 clients left the counter at 13)."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from open_government.domain.documents import format_number, sequence_key
from open_government.store import NUMBER_CLAIMS, NUMBERS, SEQUENCES

Db = AsyncDatabase[dict[str, Any]]


class NumberConflict(ValueError):
    """The document id already has a number of another unit or year."""


async def issue_number(
    db: Db, *, unit: str, year: int, document_id: str, at: datetime
) -> dict[str, Any]:
    """The number of `document_id`: the one issued to it before, or the next free one of
    (unit, year), claimed by one insert."""
    key = sequence_key(unit, year)
    claim = await _claimed(db, document_id, unit, year)
    if claim is None:
        start = await db[SEQUENCES].find_one({"_id": key})
        seq = int(start["n"]) if start else 0
        while claim is None:
            seq += 1
            attempt = {
                "_id": f"{key}:{seq}",
                "document_id": document_id,
                "unit": unit,
                "year": year,
                "seq": seq,
                "number": format_number(unit, year, seq),
                "issued_at": at,
            }
            try:
                await db[NUMBER_CLAIMS].insert_one(attempt)
                claim = attempt
            except DuplicateKeyError:
                # Taken: by another document (try the next number), or this document's
                # number was claimed by a concurrent request meanwhile (use it).
                claim = await _claimed(db, document_id, unit, year)
        with suppress(DuplicateKeyError):  # created by a concurrent request: a hint anyway
            await db[SEQUENCES].update_one({"_id": key}, {"$max": {"n": claim["seq"]}}, upsert=True)
    issued = _public(claim)
    with suppress(DuplicateKeyError):  # a concurrent request for the same document wrote it
        await db[NUMBERS].replace_one(
            {"_id": document_id}, {**issued, "_id": document_id}, upsert=True
        )
    return issued


async def _claimed(db: Db, document_id: str, unit: str, year: int) -> dict[str, Any] | None:
    claim = await db[NUMBER_CLAIMS].find_one({"document_id": document_id})
    if claim is not None and (claim["unit"], claim["year"]) != (unit, year):
        raise NumberConflict(
            f"{document_id!r} is registered for {claim['unit']} in {claim['year']}"
        )
    return claim


def _public(claim: dict[str, Any]) -> dict[str, Any]:
    return {k: claim[k] for k in ("document_id", "unit", "year", "seq", "number")}
