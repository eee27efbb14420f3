"""The api's notes of the records the broker acknowledged, written in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from fazhi.bus.publisher import Placement
from fazhi.contracts.envelope import CloudEvent
from fazhi.receipts.rules import accepted_doc
from fazhi.store.projection import DUPLICATE_KEY, UPDATE_BATCH, HotQuery

log = logging.getLogger(__name__)

ACCEPTED = "accepted_events"
"""The api's notes of the records the broker acknowledged, by event key (never the ledger)."""

RECEIPT_QUERIES = (
    HotQuery(ACCEPTED, {"_id": "/units/justice 42"}, "GET /v1/events/{id}: the record posted"),
)
"""With the ledger's own (`fazhi.bus.consumer.LEDGER_QUERIES`): a receipt is two `_id` lookups."""


class ReceiptWriter:
    """Writes the api's notes of accepted records in the background, in bulk, every
    `interval_s`: the 202 never waits for it. The newest note of an event wins (a re-post
    replaces the older one). At most `max_pending` notes wait; beyond that the oldest are
    dropped (logged): a receipt then says nothing until the worker has the event, which is
    better than holding up the answers."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        *,
        interval_s: float = 0.05,
        max_pending: int = 100_000,
    ) -> None:
        self._collection = db[ACCEPTED]
        self._interval_s = interval_s
        self._max_pending = max_pending
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.dropped = 0

    def note(self, events: Iterable[CloudEvent], placed: Iterable[Placement]) -> None:
        for event, where in zip(events, placed, strict=True):
            doc = accepted_doc(event, where)
            self._pending.pop(doc["_id"], None)
            self._pending[doc["_id"]] = doc
        while len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)
            self.dropped += 1
        if len(self._pending) >= 500:
            self._wake.set()

    def pending(self, key: str) -> dict[str, Any] | None:
        """The note of `key` not written yet, if any: a receipt asked for at once after the 202
        (of this api process) says `accepted` all the same."""
        return self._pending.get(key)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="receipt-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(PyMongoError):
            await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()
            try:
                await self.flush()
            except PyMongoError as exc:  # kept, tried again at the next tick
                log.warning("receipts not written yet", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        if not self._pending:
            return
        docs = list(self._pending.values())
        self._pending.clear()
        try:
            await self._write(docs)
        except PyMongoError:
            for doc in docs:  # back in front of anything noted meanwhile, which is newer
                if doc["_id"] not in self._pending:
                    self._pending[doc["_id"]] = doc
                    self._pending.move_to_end(doc["_id"], last=False)
            raise

    async def _write(self, docs: list[dict[str, Any]]) -> None:
        try:
            await self._collection.insert_many(docs, ordered=False)
            return
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            again = [docs[e["index"]] for e in errors]
        replaces = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in again]
        for start in range(0, len(replaces), UPDATE_BATCH):
            await self._collection.bulk_write(replaces[start : start + UPDATE_BATCH], ordered=False)
