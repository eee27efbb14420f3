"""The storage seam of the workers: aggregates loaded and saved in batches, exactly once, with
single-document atomicity only.

An aggregate document carries, besides its own fields, the units that own it (`owner_units`), a
version (`_v`, compared on every save so a concurrent writer is detected) and, per Kafka
partition, the offset of the last record applied to it (`_pos`). One aggregate lives on one
partition (records are keyed by its id), so a record at or below that offset was applied before
and is skipped: "applied once" costs one number per partition, not a list of event keys.
Timelines go to insert-only collections (rows keyed by the event, so a replay inserts nothing).

`MongoStore` is the real thing; `MemoryStore` beside it is the fake the handler tests use.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

OWNERS = "owner_units"
VERSION = "_v"
POSITIONS = "_pos"
RETENTION_DAY = "retention_day"
"""The day of the last event about an aggregate with personal data (`YYYY-MM-DD`, indexed): its
retention period counts from there (`fazhi.store.retention`)."""
INTERNAL_FIELDS = (VERSION, POSITIONS, RETENTION_DAY)
"""Bookkeeping fields of aggregate documents, never returned by the read endpoints."""
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published, purged
with the aggregate's data key."""
PERSONAL_DATA = "personal_data"
"""`"erased"` once an aggregate's personal data is gone (its data key shredded)."""
ERASED = "erased"

LEDGER = "processed_events"
LOAD_CONCURRENCY = 16
UPDATE_BATCH = 40
"""The most updates or replacements sent in one bulk write: FerretDB v1 on PostgreSQL stops
answering a bulk write of 50 or more that hit existing documents (one pooled connection each)."""
DUPLICATE_KEY = 11000

Document = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class HotQuery:
    """A query issued per event, per request or per timer tick, with example values. Each is an
    equality on indexed fields (docs/architecture.md, Storage); the query-plan test explains
    every one on the local store and fails on a scan of the whole collection."""

    collection: str
    filter: Mapping[str, Any]
    issued_by: str


def owned_by(doc: Mapping[str, Any], unit: str | None) -> bool:
    """Whether `unit` may change the document (documents from before ownership: anyone)."""
    owners = doc.get(OWNERS)
    return owners is None or unit in owners


def position_key(topic: str, partition: int) -> str:
    return f"{topic.replace('.', '_')}~{partition}"


def applied_position(doc: Mapping[str, Any] | None, topic: str, partition: int) -> int:
    """The offset of the last record of that partition applied to the document, or -1."""
    if not doc:
        return -1
    return int(doc.get(POSITIONS, {}).get(position_key(topic, partition), -1))


class ConflictError(Exception):
    """A document changed underneath the batch (another writer): the batch is tried again."""


@dataclass(frozen=True)
class Save:
    collection: str
    doc: Document
    """The whole new document, `_id`, version and positions included."""
    expected_version: int | None
    """The version it was loaded at (0: a document from before versions); None for a new
    document, which is inserted, never overwritten."""


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    fields: Mapping[str, Any]


class Store(Protocol):
    """What a worker needs from storage: aggregates by id, insert-only rows, and the ledger."""

    async def load(self, collection: str, ids: Sequence[str]) -> dict[str, Document]: ...

    async def commit(
        self,
        saves: Sequence[Save],
        rows: Sequence[tuple[str, Document]],
        *,
        drafts: Sequence[tuple[str, Document]] = (),
        alongside: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Insert the rows (a row whose `_id` exists is already there: skipped) and write the
        drafts (replacing what has their `_id`) while `alongside` runs; then, only once all of
        that succeeded, write the saves (each guarded by its expected version; ConflictError if
        one is not met)."""
        ...

    async def claim(self, entries: Sequence[LedgerEntry]) -> dict[str, Document]:
        """Insert the ledger entries that are new; returns those that existed, as they are."""
        ...

    async def settle(self, outcomes: Mapping[str, Mapping[str, Any]]) -> None:
        """Correct single ledger entries (an event refused, ignored, or claimed before)."""
        ...


class MongoStore:
    """The store on a MongoDB-protocol database. Every query is an equality on an indexed field:
    `_id`, or the ledger's `batch` (see docs/architecture.md, Storage)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def load(self, collection: str, ids: Sequence[str]) -> dict[str, Document]:
        # One equality lookup per id, a few at a time: `$in` is not an indexed query on every
        # MongoDB-protocol server, `_id` equality is; and a burst of hundreds of concurrent
        # queries starves a small server's connection pool.
        found: list[Document | None] = []
        for start in range(0, len(ids), LOAD_CONCURRENCY):
            chunk = ids[start : start + LOAD_CONCURRENCY]
            found.extend(
                await asyncio.gather(*(self.db[collection].find_one({"_id": i}) for i in chunk))
            )
        return {doc["_id"]: doc for doc in found if doc is not None}

    async def commit(
        self,
        saves: Sequence[Save],
        rows: Sequence[tuple[str, Document]],
        *,
        drafts: Sequence[tuple[str, Document]] = (),
        alongside: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        # Timeline rows first: whoever reads an aggregate then finds its rows too. Each step
        # writes its collections concurrently (one round trip, not one per collection: a
        # trigger's item waits for these), and ends only when every write has: a batch tried
        # again after a conflict never races a write of its first try.
        await _every(
            [
                *(self._insert_new(c, docs) for c, docs in _group(rows).items()),
                *(self._replace(c, docs) for c, docs in _group(drafts).items()),
                *([alongside()] if alongside is not None else []),
            ]
        )
        grouped = _group((s.collection, _save_op(s)) for s in saves)
        await _every(self._save(c, ops) for c, ops in grouped.items())

    async def _save(
        self, collection: str, ops: list[InsertOne[Document] | ReplaceOne[Document]]
    ) -> None:
        for chunk in _chunks(ops, UPDATE_BATCH):
            try:
                result = await self.db[collection].bulk_write(chunk, ordered=False)
            except BulkWriteError as exc:
                raise ConflictError(f"{collection}: {_write_errors(exc)}") from exc
            if result.inserted_count + result.matched_count != len(chunk):
                raise ConflictError(f"{collection}: a document changed while the batch ran")

    async def _replace(self, collection: str, docs: list[Document]) -> None:
        # Inserted as rows are (one write); what was there already (rare) is then replaced.
        there = await self._insert_new(collection, docs)
        ops = [ReplaceOne({"_id": doc["_id"]}, doc) for doc in docs if doc["_id"] in there]
        for chunk in _chunks(ops, UPDATE_BATCH):
            await self.db[collection].bulk_write(chunk, ordered=False)

    async def claim(self, entries: Sequence[LedgerEntry]) -> dict[str, Document]:
        existing = await self._insert_new(LEDGER, [{"_id": e.key, **e.fields} for e in entries])
        if not existing:
            return {}
        return await self.load(LEDGER, sorted(existing))

    async def settle(self, outcomes: Mapping[str, Mapping[str, Any]]) -> None:
        singles = [
            UpdateOne({"_id": key}, {"$set": dict(fields)}) for key, fields in outcomes.items()
        ]
        for chunk in _chunks(singles, UPDATE_BATCH):
            await self.db[LEDGER].bulk_write(chunk, ordered=False)

    async def _insert_new(self, collection: str, docs: list[Document]) -> set[str]:
        """Insert `docs`; returns the `_id`s that were already there (left as they were)."""
        if not docs:
            return set()
        try:
            await self.db[collection].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return {docs[e["index"]]["_id"] for e in errors}
        return set()


def _save_op(save: Save) -> InsertOne[Document] | ReplaceOne[Document]:
    if save.expected_version is None:
        return InsertOne(save.doc)
    # `$exists` is not an indexed query on every server, but here `_id` already bounds it.
    version = save.expected_version or {"$exists": False}
    return ReplaceOne({"_id": save.doc["_id"], VERSION: version}, save.doc)


def _write_errors(exc: BulkWriteError) -> str:
    errors = exc.details.get("writeErrors", [])
    return "; ".join(str(e.get("errmsg", e))[:200] for e in errors[:3]) or str(exc)


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def _every(writes: Iterable[Awaitable[Any]]) -> None:
    """Run `writes` concurrently to their end; then raise the first error, if any."""
    jobs = list(writes)
    if len(jobs) == 1:
        await jobs[0]
        return
    for outcome in await asyncio.gather(*jobs, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


def _group(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


@dataclass
class MemoryStore:
    """An in-memory `Store` with the same guarantees, for tests of handlers and the processor."""

    collections: dict[str, dict[str, Document]] = field(default_factory=dict)
    fail_next_commit: Exception | None = None
    """Set to make the next `commit` raise (before writing anything), as a crash would."""

    def table(self, collection: str) -> dict[str, Document]:
        return self.collections.setdefault(collection, {})

    async def load(self, collection: str, ids: Sequence[str]) -> dict[str, Document]:
        table = self.table(collection)
        return {i: copy.deepcopy(table[i]) for i in ids if i in table}

    async def commit(
        self,
        saves: Sequence[Save],
        rows: Sequence[tuple[str, Document]],
        *,
        drafts: Sequence[tuple[str, Document]] = (),
        alongside: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if self.fail_next_commit is not None:
            exc, self.fail_next_commit = self.fail_next_commit, None
            raise exc
        if alongside is not None:
            await alongside()
        for collection, draft in drafts:
            self.table(collection)[draft["_id"]] = copy.deepcopy(draft)
        for save in saves:
            current = self.table(save.collection).get(save.doc["_id"])
            version = None if current is None else current.get(VERSION, 0)
            if version != save.expected_version:
                raise ConflictError(f"{save.collection}/{save.doc['_id']} changed")
        for collection, row in rows:
            self.table(collection).setdefault(row["_id"], copy.deepcopy(row))
        for save in saves:
            self.table(save.collection)[save.doc["_id"]] = copy.deepcopy(save.doc)

    async def claim(self, entries: Sequence[LedgerEntry]) -> dict[str, Document]:
        ledger = self.table(LEDGER)
        existing: dict[str, Document] = {}
        for e in entries:
            if e.key in ledger:
                existing[e.key] = copy.deepcopy(ledger[e.key])
            else:
                ledger[e.key] = {"_id": e.key, **e.fields}
        return existing

    async def settle(self, outcomes: Mapping[str, Mapping[str, Any]]) -> None:
        ledger = self.table(LEDGER)
        for key, fields in outcomes.items():
            ledger[key].update(fields)
