"""What an api process watches on Kafka: a live tail of its topics and its worker group's lag.

The tail feeds live views (SSE / WebSocket fan-out) and counts what passes; the lag monitor
publishes, on the api's own `/metrics`, how far the service's workers are behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from fazhi.bus.progress import WorkerProgress
from fazhi.contracts.envelope import CloudEvent, EnvelopeFieldsError, from_kafka
from fazhi.contracts.strictjson import EnvelopeError
from fazhi.kafkaclient import KafkaClient, kafka_options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TailMetrics:
    tailed: Counter
    lag: Gauge


@cache
def tail_metrics(prefix: str) -> TailMetrics:
    return TailMetrics(
        tailed=Counter(
            f"{prefix}_events_tailed",
            "Events seen by the api's live tail of its topics, by topic and type.",
            ["topic", "type"],
        ),
        lag=Gauge(
            f"{prefix}_consumer_lag",
            "Records the service's worker group has yet to consume, summed over partitions.",
            ["group", "topic"],
        ),
    )


@dataclass
class LiveTail:
    """Follows `topics` from their current end; each subscriber gets every event from then on."""

    bootstrap: str | KafkaClient
    topics: Sequence[str]
    metrics: TailMetrics
    worker_group: str
    known_types: frozenset[str] = frozenset()
    """The event types counted by name (others as `unknown`, so junk adds no series)."""
    lag_topics: Sequence[str] = ()
    """Every topic the worker group consumes, whose lag is measured (default: `topics`)."""
    lag_every_s: float = 15.0
    progress: WorkerProgress | None = None
    """Where the worker group's committed offsets are read (shared with the api's receipt
    notes); None: a reader of its own for each measurement."""
    _subscribers: set[asyncio.Queue[CloudEvent]] = field(default_factory=set)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._watch_lag())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    @contextlib.asynccontextmanager
    async def subscribe(self, maxsize: int = 1000) -> AsyncIterator[asyncio.Queue[CloudEvent]]:
        queue: asyncio.Queue[CloudEvent] = asyncio.Queue(maxsize)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def _fan_out(self, event: CloudEvent) -> None:
        for queue in self._subscribers:
            if queue.full():  # a slow viewer loses its oldest events, never blocks the tail
                queue.get_nowait()
            queue.put_nowait(event)

    async def _follow(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                *self.topics,
                **kafka_options(self.bootstrap),
                group_id=None,
                auto_offset_reset="latest",
            )
            try:
                await consumer.start()
                while True:
                    # What has arrived, as soon as anything has: one call per fetch, not per
                    # record (the tail follows every record the api accepts).
                    fetched = await consumer.getmany(timeout_ms=1000)
                    for records in fetched.values():
                        self._take(records)
            except (KafkaError, OSError) as exc:
                log.warning("live tail lost Kafka, reconnecting", extra={"error": repr(exc)})
            except Exception:  # the tail must outlive any surprise; it only feeds views and metrics
                log.exception("live tail failed, restarting")
            finally:
                await consumer.stop()
            await asyncio.sleep(2)

    def _take(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        counted: dict[tuple[str, str], int] = {}
        for record in records:
            # The type is counted from the record's header; the event itself is read only for
            # a viewer.
            kind = _header(record.headers, "ce_type")
            label = kind if kind in self.known_types else "unknown"
            counted[record.topic, label] = counted.get((record.topic, label), 0) + 1
            if not self._subscribers:
                continue
            try:
                event = from_kafka(record.value)
            except (EnvelopeError, EnvelopeFieldsError):
                continue
            self._fan_out(event)
        for (topic, label), count in counted.items():
            self.metrics.tailed.labels(topic=topic, type=label).inc(count)

    async def _watch_lag(self) -> None:
        while True:
            try:
                await self._measure_lag()
            except Exception as exc:  # lag is a metric: never let it stop the api
                log.debug("consumer lag not measured: %r", exc)
            await asyncio.sleep(self.lag_every_s)

    async def _measure_lag(self) -> None:
        progress = self.progress or WorkerProgress(self.bootstrap, self.worker_group, timeout_s=5)
        admin = AIOKafkaAdminClient(**kafka_options(self.bootstrap), request_timeout_ms=5000)
        consumer = AIOKafkaConsumer(
            **kafka_options(self.bootstrap), group_id=None, request_timeout_ms=5000
        )
        try:
            await admin.start()
            await consumer.start()
            committed = await progress()
            for topic in self.lag_topics or self.topics:
                described = await admin.describe_topics([topic])
                partitions = [
                    TopicPartition(topic, p["partition"]) for p in described[0]["partitions"]
                ]
                ends = await consumer.end_offsets(partitions)
                lag = sum(ends[tp] - committed.get((topic, tp.partition), 0) for tp in partitions)
                self.metrics.lag.labels(group=self.worker_group, topic=topic).set(max(lag, 0))
        finally:
            await consumer.stop()
            await admin.close()
            if progress is not self.progress:
                await progress.close()


def _header(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str:
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", "replace")
    return ""
