"""Idempotent event consumption: a ledger of processed events, bounded retries, then the DLQ.

Failures caused by the record (not a CloudEvent, invalid data, a handler that keeps raising)
send it to `<topic>.dlq` so the partition keeps flowing. Failures of the infrastructure
(MongoDB unreachable) are retried without limit instead: the record is fine and must not be lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ExecutionTimeout

from fazhi.catalog import EventCatalog, dlq_topic
from fazhi.envelope import CloudEvent, EnvelopeError, EnvelopeFieldsError, from_kafka
from fazhi.metrics import Metrics
from fazhi.publisher import Publisher
from fazhi.redaction import mask_for_log

log = logging.getLogger(__name__)

LEDGER = "processed_events"
# The server, not the record, is at fault: retry without limit rather than dead-letter.
INFRASTRUCTURE_ERRORS = (ConnectionFailure, ExecutionTimeout)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    error: str
    attempts: int
    group: str = ""
    """The consumer group that gave up on the record (several groups may read one topic)."""

    @property
    def topic(self) -> str:
        return dlq_topic(self.record.topic)

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("fazhi-error", mask_for_log(self.error[:2000]).encode()),
            ("fazhi-consumer-group", self.group.encode()),
            ("fazhi-attempts", str(self.attempts).encode()),
            ("fazhi-original-topic", self.record.topic.encode()),
            ("fazhi-original-partition", str(self.record.partition).encode()),
            ("fazhi-original-offset", str(self.record.offset).encode()),
        ]


@dataclass
class HandlerContext:
    db: AsyncDatabase[dict[str, Any]]
    publisher: Publisher
    record: Record


Handler = Callable[[HandlerContext, CloudEvent, Any], Awaitable[None]]
DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]


class PoisonError(Exception):
    """The record itself is bad; retrying cannot help."""


async def ensure_ledger(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[LEDGER].create_index(
        [("source", ASCENDING), ("id", ASCENDING)], unique=True, name="source_id_unique"
    )


@dataclass
class EventProcessor:
    """Applies each record once: handlers must themselves be idempotent per event, because a
    crash between a handler and the ledger write replays the event (no multi-document
    transactions are assumed)."""

    db: AsyncDatabase[dict[str, Any]]
    catalogs: Mapping[str, EventCatalog]
    handlers: Mapping[str, Handler]
    dead_letter: DeadLetterSink
    publisher: Publisher
    metrics: Metrics
    group: str = ""
    max_attempts: int = 3
    backoff_s: float = 0.2
    infra_backoff_max_s: float = 5.0
    _sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    async def process(self, record: Record) -> Outcome:
        try:
            event = from_kafka(record.value)
        except (EnvelopeError, EnvelopeFieldsError) as exc:
            detail = exc.errors if isinstance(exc, EnvelopeFieldsError) else str(exc)
            return await self._dead_letter(record, "-", f"not a CloudEvent: {detail}", 1)
        outcome: Outcome = await self._retry_infra(lambda: self._process_event(record, event))
        if outcome is not Outcome.DEAD_LETTERED:
            self.metrics.consumed.labels(topic=record.topic, type=event.type, outcome=outcome).inc()
        return outcome

    async def _process_event(self, record: Record, event: CloudEvent) -> Outcome:
        # A dead-lettered event may be posted again once corrected: only applied ones are done.
        # Looked up by `_id` (the event's key), which every MongoDB-protocol server serves fast.
        done = {"_id": event.key, "outcome": {"$ne": str(Outcome.DEAD_LETTERED)}}
        if await self.db[LEDGER].find_one(done, {"_id": 1}):
            return Outcome.DUPLICATE
        handler = self.handlers.get(event.type)
        if handler is None:
            await self._remember(record, event, Outcome.IGNORED)
            return Outcome.IGNORED
        ctx = HandlerContext(db=self.db, publisher=self.publisher, record=record)
        attempts = 0
        while True:
            attempts += 1
            started = time.perf_counter()
            try:
                await handler(ctx, event, self._data(event))
                break
            except INFRASTRUCTURE_ERRORS:
                raise
            except PoisonError as exc:
                return await self._dead_letter(record, event.type, str(exc), attempts, event)
            except Exception as exc:  # a handler bug must not stop the partition
                log.warning(
                    "handler failed",
                    extra={"event_type": event.type, "attempt": attempts, "error": repr(exc)},
                )
                if attempts >= self.max_attempts:
                    return await self._dead_letter(record, event.type, repr(exc), attempts, event)
                self.metrics.consumed.labels(
                    topic=record.topic, type=event.type, outcome="retried"
                ).inc()
                await self._sleep(self.backoff_s * 2 ** (attempts - 1))
            finally:
                self.metrics.handle_seconds.labels(topic=record.topic).observe(
                    time.perf_counter() - started
                )
        await self._remember(record, event, Outcome.APPLIED)
        return Outcome.APPLIED

    def _data(self, event: CloudEvent) -> Any:
        for catalog in self.catalogs.values():
            event_type = catalog.types.get(event.type)
            if event_type is not None:
                try:
                    return event_type.model.model_validate(event.data)
                except ValidationError as exc:
                    raise PoisonError(
                        f"invalid data for {event.type}: {exc.errors(include_input=False, include_url=False)}"
                    ) from exc
        return event.data

    async def _remember(self, record: Record, event: CloudEvent, outcome: Outcome) -> None:
        entry = {
            "source": event.source,
            "id": event.id,
            "type": event.type,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "outcome": str(outcome),
            "processed_at": datetime.now(UTC),
        }
        # An insert, not an upsert: FerretDB's SQLite backend scans a collection on every
        # update, while an insert stays fast however long the ledger grows. Only a dead-lettered
        # event that comes back needs the update.
        try:
            await self.db[LEDGER].insert_one({"_id": event.key, **entry})
        except DuplicateKeyError:
            await self.db[LEDGER].update_one({"_id": event.key}, {"$set": entry})

    async def _dead_letter(
        self,
        record: Record,
        event_type: str,
        error: str,
        attempts: int,
        event: CloudEvent | None = None,
    ) -> Outcome:
        letter = DeadLetter(record=record, error=error, attempts=attempts, group=self.group)
        await self._retry_infra(lambda: self.dead_letter(letter))
        log.error(
            "record dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "event_type": event_type,
                "error": error[:500],
            },
        )
        self.metrics.dead_lettered.labels(topic=record.topic).inc()
        self.metrics.consumed.labels(
            topic=record.topic, type=event_type, outcome="dead_lettered"
        ).inc()
        if event is not None:
            await self._retry_infra(lambda: self._remember(record, event, Outcome.DEAD_LETTERED))
        return Outcome.DEAD_LETTERED

    async def _retry_infra(self, action: Callable[[], Awaitable[Any]]) -> Any:
        delay = self.backoff_s or 0.1
        while True:
            try:
                return await action()
            except INFRASTRUCTURE_ERRORS as exc:
                log.warning(
                    "mongodb unavailable, retrying", extra={"error": repr(exc), "delay_s": delay}
                )
                await self._sleep(delay)
                delay = min(delay * 2, self.infra_backoff_max_s)
