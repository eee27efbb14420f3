"""The api's notes of the records the broker acknowledged, written in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
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


Progress = Callable[[], Awaitable[Mapping[tuple[str, int], int]]]
"""Where the owning worker group has got to: per (topic, partition), the offset of the next
record it will take (its committed offset). Every record before it has its ledger entry."""


class ReceiptWriter:
    """Keeps the api's notes of accepted records and writes, off the request path, those the
    owning worker has not answered for yet.

    A note is held `hold_s`; then, every `interval_s`, the worker group's `progress` says which
    records it has taken: their ledger entries are the receipts (`fazhi.receipts`), so their
    notes are dropped unwritten, and the rest are written in bulk. While the worker keeps up,
    accepting an event costs the database nothing; while it is behind or away, every note is
    written once it is `hold_s` old (all of them when the progress cannot be read). Meanwhile
    this api process answers from the notes it holds (`pending`). The newest note of an event
    wins (a re-post replaces the older one). At most `max_pending` notes wait; beyond that the
    oldest are dropped (logged): a receipt then says nothing until the worker has the event,
    which is better than holding up the answers."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        *,
        progress: Progress | None = None,
        hold_s: float = 2.0,
        interval_s: float = 0.25,
        max_pending: int = 100_000,
    ) -> None:
        self._collection = db[ACCEPTED]
        self._progress = progress
        self._hold_s = hold_s if progress is not None else 0.0
        self._interval_s = interval_s
        self._max_pending = max_pending
        self._pending: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.written = 0
        self.answered = 0
        """Notes not written because the worker had answered for their records."""

    def note(self, events: Iterable[CloudEvent], placed: Iterable[Placement]) -> None:
        now = time.monotonic()
        for event, where in zip(events, placed, strict=True):
            doc = accepted_doc(event, where)
            self._pending.pop(doc["_id"], None)
            self._pending[doc["_id"]] = (now, doc)
        while len(self._pending) > self._max_pending:
            self._pending.popitem(last=False)
            self.dropped += 1

    def pending(self, key: str) -> dict[str, Any] | None:
        """The note of `key` not written yet, if any: a receipt asked for at once after the 202
        (of this api process) says `accepted` all the same."""
        held = self._pending.get(key)
        return held[1] if held is not None else None

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
            await self.flush(everything=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except PyMongoError as exc:  # kept, tried again at the next tick
                log.warning("receipts not written yet", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)

    async def flush(self, *, everything: bool = False) -> None:
        """Write the notes held `hold_s` (`everything`: all) that the worker has not answered
        for."""
        due = time.monotonic() - self._hold_s
        docs = []
        for noted, doc in self._pending.values():  # oldest first
            if noted > due and not everything:
                break
            docs.append(doc)
        if not docs:
            return
        # A note stays held (and answers `pending`) until it is written or found answered for;
        # after a failed write it is tried again at the next tick.
        unanswered = await self._unanswered(docs)
        if unanswered:
            await self._write(unanswered)
        self.answered += len(docs) - len(unanswered)
        self.written += len(unanswered)
        for doc in docs:
            held = self._pending.get(doc["_id"])
            if held is not None and held[1] is doc:  # not posted again meanwhile
                del self._pending[doc["_id"]]

    async def _unanswered(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._progress is None:
            return docs
        try:
            taken = await self._progress()
        except Exception as exc:  # unknown progress: every note is written, as it is due
            log.debug("worker progress not read: %r", exc)
            return docs
        return [d for d in docs if d["offset"] >= taken.get((d["topic"], d["partition"]), 0)]

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
