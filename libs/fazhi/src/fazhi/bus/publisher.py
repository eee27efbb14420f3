"""Publishing CloudEvents to Kafka: the real `KafkaPublisher` and the `FakePublisher` for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.client import ConnectionGroup
from aiokafka.errors import KafkaError

from fazhi.contracts.envelope import CloudEvent, kafka_headers
from fazhi.kafkaclient import KafkaClient, kafka_options

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker did not acknowledge: nothing may be reported as accepted."""


@dataclass(frozen=True)
class Placement:
    """Where the broker put one event: its receipt while no worker has seen it yet."""

    topic: str
    partition: int
    offset: int
    time: datetime


class Publisher(Protocol):
    async def publish(
        self, topic: str, events: Sequence[CloudEvent], *, encoded: Sequence[bytes] | None = None
    ) -> Sequence[Placement]:
        """Publish in order; returns where each event landed (the broker acknowledged all).
        `encoded`: each event's `to_bytes()`, where the caller has them already."""
        ...

    async def ready(self) -> bool: ...


class KafkaPublisher:
    """An idempotent aiokafka producer (`acks=all`), keyed by `subject` so an aggregate is ordered.

    Start it in the application's lifespan. It survives a broker that is down at start:
    `publish` and `ready` then try to connect again and fail fast instead of hanging.

    A send that fails discards the producer: aiokafka keeps counting the sequence numbers of
    batches that never reached the broker, so after a broker restart the partitions that had a
    send in flight would refuse every later batch (`OutOfOrderSequenceNumber`) until the process
    restarts. The next publish starts a new producer, with a new producer id and fresh sequences.
    Leaders are read from cached metadata and refreshed when one looks away, so a broker that
    came back (or a new leader elected elsewhere) is seen at once, not at the next periodic refresh.
    `topics` are the topics `ready` checks: every partition has a reachable leader.
    """

    def __init__(
        self,
        bootstrap_servers: str | KafkaClient,
        *,
        client_id: str = "fazhi",
        timeout_s: float = 10.0,
        topics: Sequence[str] = (),
    ) -> None:
        self._kafka = kafka_options(bootstrap_servers)
        self._bootstrap = self._kafka["bootstrap_servers"]
        self._client_id = client_id
        self._timeout_s = timeout_s
        self._topics = tuple(topics)
        self._producer: AIOKafkaProducer | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self._leaders: dict[str, tuple[object, frozenset[int] | None]] = {}
        """Per topic, the leaders of its partitions and the metadata they were read from."""
        self._lock = asyncio.Lock()
        self._connecting: asyncio.Task[None] | None = None
        self._failed_at = -1e9
        self._reconnect_after_s = 2.0

    async def start(self) -> None:
        try:
            await self._ensure_started()
        except PublishError as exc:
            log.warning("kafka not reachable at start; will retry on demand: %s", exc)

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
        if self._retired:
            await asyncio.gather(*self._retired, return_exceptions=True)

    def _discard(self, producer: AIOKafkaProducer, reason: BaseException) -> None:
        """Forget a producer whose state can no longer be trusted; the next send starts anew."""
        if self._producer is not producer:
            return
        self._producer = None
        log.warning("kafka producer discarded after a failed send: %r", reason)

        async def close(retired: AIOKafkaProducer) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(retired.stop(), self._timeout_s)

        task = asyncio.create_task(close(producer))
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def _ensure_started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        # While Kafka is away, answer at once instead of queueing every request behind one
        # slow connection attempt: a connect in flight or a recent failure means "not now".
        if self._lock.locked() or time.monotonic() - self._failed_at < self._reconnect_after_s:
            raise PublishError(f"Kafka at {self._bootstrap} is not reachable (retrying)")
        async with self._lock:
            if self._producer is not None:
                return self._producer
            producer = AIOKafkaProducer(
                **self._kafka,
                client_id=self._client_id,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=int(self._timeout_s * 1000),
                # No lingering: a request waits for its own acknowledgement, and records that
                # arrive while one is in flight are batched anyway.
                linger_ms=0,
            )
            try:
                await asyncio.wait_for(producer.start(), self._timeout_s)
            except (KafkaError, OSError, TimeoutError) as exc:
                self._failed_at = time.monotonic()
                await producer.stop()
                raise PublishError(
                    f"cannot connect to Kafka at {self._bootstrap}: {exc!r}"
                ) from exc
            self._producer = producer
            return producer

    async def _leaders_reachable(self, producer: AIOKafkaProducer, topic: str) -> bool:
        # A record handed to the producer while its leader is down would be retried and
        # could land after we answered 503, so refuse before sending instead. Cached leaders
        # may be stale (none while the broker was away, or a broker that lost leadership):
        # one forced refresh (shared by every caller waiting at that moment) before refusing.
        if await self._cached_leaders_reachable(producer, topic):
            return True
        try:
            await asyncio.wait_for(producer.client.force_metadata_update(), self._timeout_s)
        except (KafkaError, OSError, TimeoutError):
            return False
        return await self._cached_leaders_reachable(producer, topic)

    async def _cached_leaders_reachable(self, producer: AIOKafkaProducer, topic: str) -> bool:
        client = producer.client
        leaders = self._leaders_of(client.cluster, topic)
        if leaders is not None and not leaders:
            try:
                await asyncio.wait_for(client._wait_on_metadata(topic), self._timeout_s)
            except (KafkaError, TimeoutError):
                return False
            leaders = self._leaders_of(client.cluster, topic)
        if not leaders:
            return False
        if all(_connected(client, node) for node in leaders):
            return True  # what `client.ready` answers first, without two awaits per leader
        for node in leaders:
            try:
                if not await asyncio.wait_for(client.ready(node), self._timeout_s):
                    return False
            except (KafkaError, OSError, TimeoutError):
                return False
        return True

    def _leaders_of(self, cluster: Any, topic: str) -> frozenset[int] | None:
        """The leaders of the topic's partitions: none while its partitions are unknown, None
        while one of them has no leader. Read once per metadata update, not per request: every
        update replaces the cluster's partition table, so the table they were read from says
        whether they are current."""
        table = cluster._partitions
        cached = self._leaders.get(topic)
        if cached is not None and cached[0] is table:
            return cached[1]
        partitions = cluster.partitions_for_topic(topic) or set()
        found = {cluster.leader_for_partition(TopicPartition(topic, p)) for p in partitions}
        leaders = None if None in found or -1 in found else frozenset(found)
        self._leaders[topic] = (table, leaders)
        return leaders

    async def publish(
        self, topic: str, events: Sequence[CloudEvent], *, encoded: Sequence[bytes] | None = None
    ) -> list[Placement]:
        producer = await self._ensure_started()
        if not await self._leaders_reachable(producer, topic):
            raise PublishError(f"the Kafka leaders of {topic} are not reachable")
        try:
            values = encoded if encoded is not None else [event.to_bytes() for event in events]
            futures = [
                await producer.send(
                    topic,
                    value=value,
                    key=event.subject.encode(),
                    headers=kafka_headers(event),
                )
                for event, value in zip(events, values, strict=True)
            ]
            # `asyncio.timeout`, not `wait_for`: no task made per request for the wait.
            async with asyncio.timeout(self._timeout_s):
                sent = [await futures[0]] if len(futures) == 1 else await asyncio.gather(*futures)
        except (KafkaError, OSError, TimeoutError) as exc:
            self._discard(producer, exc)
            raise PublishError(f"Kafka did not acknowledge {topic}: {exc!r}") from exc
        now = datetime.now(UTC)
        return [
            Placement(
                m.topic,
                m.partition,
                m.offset,
                now if m.timestamp is None else datetime.fromtimestamp(m.timestamp / 1000, UTC),
            )
            for m in sent
        ]

    async def send_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        """Send a record as it is (a dead letter keeps the bytes that failed); waits for the ack."""
        producer = await self._ensure_started()
        try:
            await asyncio.wait_for(
                producer.send_and_wait(topic, value=value, key=key, headers=headers),
                self._timeout_s,
            )
        except (KafkaError, OSError, TimeoutError) as exc:
            self._discard(producer, exc)
            raise PublishError(f"Kafka did not acknowledge {topic}: {exc!r}") from exc

    async def ready(self, *, timeout_s: float = 3.0) -> bool:
        """Whether a send would be taken now; never waits long, so probes stay fast.

        With `topics`, every partition of each needs a reachable leader (what `publish` asks);
        without, any broker answering will do. Without a producer yet (Kafka was away at start,
        or the last one was discarded), a connection attempt is started in the background and
        this answers False until it succeeds.
        """
        producer = self._producer
        if producer is None:
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.create_task(self.start())
            return False
        if self._topics:
            try:
                checks = [self._leaders_reachable(producer, topic) for topic in self._topics]
                return all(await asyncio.wait_for(asyncio.gather(*checks), timeout_s))
            except (KafkaError, OSError, TimeoutError):
                return False
        try:
            node = producer.client.get_random_node()
            if node is None:
                await asyncio.wait_for(producer.client.force_metadata_update(), timeout_s)
                node = producer.client.get_random_node()
            return node is not None and bool(
                await asyncio.wait_for(producer.client.ready(node), timeout_s)
            )
        except (KafkaError, OSError, TimeoutError):
            return False


def _connected(client: Any, node: int) -> bool:
    """An open connection to `node` in the client's pool (where `AIOKafkaClient.ready` looks)."""
    conn = client._conns.get((node, ConnectionGroup.DEFAULT))
    return conn is not None and bool(conn.connected())


@dataclass
class FakePublisher:
    """Records what would be published; set `fail = True` to act as an unreachable broker."""

    published: list[tuple[str, CloudEvent]] = field(default_factory=list)
    fail: bool = False

    async def publish(
        self, topic: str, events: Sequence[CloudEvent], *, encoded: Sequence[bytes] | None = None
    ) -> list[Placement]:
        if self.fail:
            raise PublishError("the fake broker is down")
        first = len(self.published)
        self.published.extend((topic, event) for event in events)
        now = datetime.now(UTC)
        return [Placement(topic, 0, first + i, now) for i in range(len(events))]

    async def ready(self) -> bool:
        return not self.fail

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
