"""One batch's unit of work: the aggregates it loaded once, what handlers saved, appended and emitted, written together; and the context a handler gets."""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fazhi.bus.records import Record
from fazhi.contracts import derived_event, topic_of
from fazhi.contracts.envelope import (
    CloudEvent,
)
from fazhi.contracts.models import Payload
from fazhi.store.projection import (
    POSITIONS,
    VERSION,
    Document,
    Save,
    Store,
    applied_position,
    position_key,
)

DocKey = tuple[str, str]


class AggregateCache:
    """The aggregates a worker wrote or read lately, as they are in the store: all events of
    an aggregate come to the worker that holds its partition, so the next batch usually finds
    them here instead of loading them. A document changed elsewhere (after a rebalance) is
    caught by its version when it is saved; the batch then forgets everything and loads anew."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._docs: OrderedDict[DocKey, Document] = OrderedDict()

    def get(self, key: DocKey) -> Document | None:
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
        return doc

    def put(self, key: DocKey, doc: Document) -> None:
        if self.size <= 0:
            return
        self._docs[key] = doc
        self._docs.move_to_end(key)
        while len(self._docs) > self.size:
            self._docs.popitem(last=False)

    def clear(self) -> None:
        self._docs.clear()


class _Batch:
    """The unit of work of one batch: aggregates as loaded, as changed, and what to write."""

    def __init__(self, store: Store, cache: AggregateCache) -> None:
        self.store = store
        self.cache = cache
        self.docs: dict[DocKey, Document | None] = {}
        self.loaded_versions: dict[DocKey, int | None] = {}
        self.dirty: set[DocKey] = set()
        self.rows: dict[tuple[str, str], Document] = {}
        self.emitted: list[tuple[str, CloudEvent]] = []

    async def preload(self, keys: Sequence[DocKey]) -> None:
        by_collection: dict[str, list[str]] = {}
        for key in dict.fromkeys(keys):
            if key in self.docs:
                continue
            cached = self.cache.get(key)
            if cached is not None:
                self._loaded(key, cached)
            else:
                by_collection.setdefault(key[0], []).append(key[1])
        loaded = await asyncio.gather(
            *(self.store.load(c, ids) for c, ids in by_collection.items())
        )
        for (collection, ids), found in zip(by_collection.items(), loaded, strict=True):
            for doc_id in ids:
                self._loaded((collection, doc_id), found.get(doc_id))

    def _loaded(self, key: DocKey, doc: Document | None) -> None:
        self.docs[key] = doc
        self.loaded_versions[key] = int(doc.get(VERSION, 0)) if doc is not None else None

    async def get(self, key: DocKey) -> Document | None:
        if key not in self.docs:
            await self.preload([key])
        doc = self.docs[key]
        return copy.deepcopy(doc) if doc is not None else None

    def peek(self, key: DocKey) -> Document | None:
        return self.docs.get(key)

    def merge(self, ctx: HandlerContext) -> None:
        record = ctx.record
        position = position_key(record.topic, record.partition)
        for key, doc in ctx.saved.items():
            current = self.docs.get(key)
            if applied_position(current, record.topic, record.partition) >= record.offset:
                continue  # this document took the record before a crash; the rest did not
            positions = dict(current.get(POSITIONS, {})) if current else {}
            positions[position] = record.offset
            self.docs[key] = {**doc, "_id": key[1], POSITIONS: positions}
            self.dirty.add(key)
        for collection, row in ctx.rows:
            self.rows.setdefault((collection, row["_id"]), row)
        self.emitted.extend(ctx.emitted)

    async def commit(
        self,
        *,
        drafts: Sequence[tuple[str, Document]] = (),
        alongside: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Write what the batch changed (`Store.commit`, with `drafts` and `alongside`)."""
        saves = []
        for key in sorted(self.dirty):
            doc = self.docs[key]
            assert doc is not None
            version = self.loaded_versions.get(key)
            saves.append(Save(key[0], {**doc, VERSION: (version or 0) + 1}, version))
        rows = [(collection, row) for (collection, _), row in self.rows.items()]
        await self.store.commit(saves, rows, drafts=drafts, alongside=alongside)
        for key, doc in self.docs.items():
            if doc is not None and key not in self.dirty:
                self.cache.put(key, doc)
        for save in saves:
            self.cache.put((save.collection, save.doc["_id"]), save.doc)


@dataclass
class HandlerContext:
    """What a handler sees of storage while it applies one event: aggregates by id (as the
    batch has them so far), and the changes it stages. Staged changes take effect only when the
    handler returns; a handler that raises changes nothing."""

    event: CloudEvent
    record: Record
    _batch: _Batch = field(repr=False)
    saved: dict[DocKey, Document] = field(default_factory=dict)
    rows: list[tuple[str, Document]] = field(default_factory=list)
    emitted: list[tuple[str, CloudEvent]] = field(default_factory=list)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        """A copy of the aggregate, or None; change it and `save` it to keep the change."""
        staged = self.saved.get((collection, doc_id))
        if staged is not None:
            return copy.deepcopy(staged)
        return await self._batch.get((collection, doc_id))

    def save(self, collection: str, doc: Document) -> None:
        self.saved[(collection, doc["_id"])] = doc

    def append(self, collection: str, row: Mapping[str, Any]) -> None:
        """Add a row to an insert-only collection (a timeline). Its `_id` is the event's key
        (with a suffix from the second row on), so a replay never adds it twice."""
        n = sum(1 for c, _ in self.rows if c == collection)
        row_id = self.event.key if n == 0 else f"{self.event.key}#{n}"
        self.rows.append((collection, {"_id": row_id, **row}))

    def emit(
        self,
        data: Payload,
        /,
        *,
        rule: str = "",
        cause: str | None = None,
        source: str | None = None,
        time: datetime | None = None,
    ) -> CloudEvent:
        """Publish the event derived from this one (`cause`: its key, unless given) by `rule`,
        with `data` as its payload, from this event's `source` unless given, at `time` (now
        unless given). Its type, topic, subject and id follow (`fazhi.contracts.derived_event`):
        a replay derives the same id, and its consumers drop the copy."""
        derived = derived_event(
            data,
            cause=self.event.key if cause is None else cause,
            rule=rule,
            source=self.event.source if source is None else source,
            time=time,
        )
        self.emitted.append((topic_of(type(data)), derived))
        return derived

    async def apply_derived(self, event: CloudEvent, handler: Handler, data: Any) -> None:
        """Apply `event`, one this handler emitted, in this batch as well, as `handler` (its
        type's handler, given `data`, its payload) will when its own record comes: the change
        shows one trip through Kafka sooner. What it saves and appends is staged with this
        event's changes (so a document it saves takes this record's position; its rows keep
        the ids its own record would give them), and it emits with this event.

        Only for a derivation that is the same every time (its payload and `time` follow from
        this event, so a replay applies the same change), and for a handler that finds its
        change made when the event's own record comes, and whose change cannot depend on the
        events of its aggregate ahead of that record (a document it creates, for one)."""
        derived = HandlerContext(event=event, record=self.record, _batch=self._batch)
        derived.saved = self.saved
        await handler(derived, data)
        self.rows.extend(derived.rows)
        self.emitted.extend(derived.emitted)


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
