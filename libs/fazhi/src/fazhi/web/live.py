"""Live push from Kafka to viewers, resumable: Server-Sent Events and WebSocket.

A viewer follows some event types of some topics from a position. The position is every
partition's next offset, written as an opaque token (`0.0:15,0.1:3,...`): the SSE `id` of each
event and the `id` of each WebSocket frame. A viewer that reconnects with its last token
(`Last-Event-ID`) gets every event it missed, in order, and nothing twice; without one it
starts at the topics' current end. Kafka keeps the events, so no other state is needed.

Within a partition the order is Kafka's; across partitions events are merged in the order of
their Kafka timestamps (what was appended first is shown first). Kafka stamps to the
millisecond: events appended to different partitions within the same millisecond have no
order between them (they are shown by partition). A resuming viewer's backlog is read to the
end of every partition before any of it is shown, so it interleaves the same way.

Each viewer has its own consumer (no consumer group, no committed offsets): viewers are staff
consoles and dashboards, tens at a time, not the public. A viewer with nothing to show gets a
heartbeat every `heartbeat_s` seconds that also carries its current position, so a resume after
a long quiet spell does not re-read events it was never going to be shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from fastapi import WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from prometheus_client import Counter, Gauge

from fazhi.contracts.envelope import CloudEvent, EnvelopeFieldsError, from_kafka
from fazhi.contracts.strictjson import EnvelopeError
from fazhi.kafkaclient import KafkaClient, kafka_options
from fazhi.web.auth import KeyStore, Principal
from fazhi.web.problems import Problem

log = logging.getLogger(__name__)

TOKEN_PATTERN = re.compile(r"^\d{1,3}\.\d{1,5}:\d{1,19}(,\d{1,3}\.\d{1,5}:\d{1,19}){0,999}$")
MAX_TOKEN_LENGTH = 16_384
AUTH_TIMEOUT_S = 10.0
METADATA_TRIES = 25
BACKLOG_MAX = 10_000
"""Missed records a resuming viewer reads before it is shown any (the rest follow as they come)."""
BACKLOG_WAIT_S = 5.0

WS_UNAUTHENTICATED = 4401
"""WebSocket close code: no key, or an unknown one (as HTTP 401)."""
WS_FORBIDDEN = 4403
"""WebSocket close code: the key's roles may not follow this feed (as HTTP 403)."""
WS_BAD_POSITION = 4400
"""WebSocket close code: the last event id is not one this feed gave."""


@dataclass(frozen=True)
class LiveMetrics:
    viewers: Gauge
    pushed: Counter


@cache
def live_metrics() -> LiveMetrics:
    return LiveMetrics(
        viewers=Gauge(
            "fazhi_live_viewers", "Viewers following a live feed now, by feed.", ["feed"]
        ),
        pushed=Counter(
            "fazhi_live_pushed",
            "Events pushed to live viewers, by feed and type.",
            ["feed", "type"],
        ),
    )


Position = dict[TopicPartition, int]


def _header(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str:
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", "replace")
    return ""


@dataclass(frozen=True)
class KafkaFeed:
    """Some event `types` of some `topics`, as a live, resumable sequence."""

    bootstrap: str | KafkaClient
    topics: Sequence[str]
    types: Collection[str] | Callable[[CloudEvent], bool]
    """The types shown (others are passed over), or a predicate on the event."""
    name: str = "live"
    """The feed's name in the metrics."""
    poll_ms: int = 500
    render: Callable[[ConsumerRecord[bytes, bytes]], CloudEvent | None] | None = None
    """What a record shows (None: nothing), in place of `types`: a feed of what it makes of
    its records (a unit's notices, dead letters included)."""
    _metrics: LiveMetrics = field(default_factory=live_metrics, repr=False)

    def token(self, position: Position) -> str:
        index = {topic: i for i, topic in enumerate(self.topics)}
        return ",".join(
            f"{index[tp.topic]}.{tp.partition}:{offset}"
            for tp, offset in sorted(
                position.items(), key=lambda kv: (kv[0].topic, kv[0].partition)
            )
        )

    def parse(self, token: str) -> Position:
        """The position a token names; a `Problem` 400 for one this feed did not make."""
        if len(token) > MAX_TOKEN_LENGTH or not TOKEN_PATTERN.match(token):
            raise Problem(
                400,
                "Last-Event-ID is not a position this feed gave: send the `id` of the last "
                "event received, as it came, or none to start from now.",
                kind="bad-last-event-id",
            )
        position: Position = {}
        for part in token.split(","):
            where, offset = part.split(":")
            topic_index, partition = where.split(".")
            if int(topic_index) >= len(self.topics):
                raise Problem(
                    400,
                    "Last-Event-ID names a topic this feed does not follow.",
                    kind="bad-last-event-id",
                )
            position[TopicPartition(self.topics[int(topic_index)], int(partition))] = int(offset)
        return position

    async def check(self, token: str) -> Position:
        """The position a token names, if this feed could have given it: every partition of the
        topics (no more, no fewer) at an offset it has reached; else a `Problem` 400. A viewer
        that kept an id from before partitions were added is refused too, and starts again from
        now. While Kafka is away nothing more than the form is checked (the feed itself fails,
        and the viewer retries with the same id)."""
        position = self.parse(token)
        try:
            partitions = await self._partitions()
            ends = await self._end_offsets(partitions)
        except KafkaError:
            return position
        if set(position) != set(partitions) or any(position[tp] > ends[tp] for tp in partitions):
            raise Problem(
                400,
                "Last-Event-ID is not a position this feed gave: send the `id` of the last "
                "event received, as it came, or none to start from now.",
                kind="bad-last-event-id",
            )
        return position

    async def _end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(
            **kafka_options(self.bootstrap), group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            return dict(await consumer.end_offsets(list(partitions)))
        finally:
            await consumer.stop()

    def _shown(self, record: ConsumerRecord[bytes, bytes]) -> CloudEvent | None:
        if self.render is not None:
            return self.render(record)
        kind = _header(record.headers, "ce_type")
        if not callable(self.types) and kind and kind not in self.types:
            return None
        try:
            event = from_kafka(record.value)
        except (EnvelopeError, EnvelopeFieldsError):
            return None
        if callable(self.types):
            return event if self.types(event) else None
        return event if event.type in self.types else None

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the topics (a topic just created takes a moment to be known)."""
        admin = AIOKafkaAdminClient(**kafka_options(self.bootstrap), request_timeout_ms=5000)
        await admin.start()
        try:
            for _ in range(METADATA_TRIES):
                described = await admin.describe_topics(list(self.topics))
                found = {
                    d["topic"]: sorted(p["partition"] for p in d["partitions"])
                    for d in described
                    if d.get("error_code", 0) == 0
                }
                if all(found.get(topic) for topic in self.topics):
                    return [TopicPartition(t, p) for t in self.topics for p in found[t]]
                await asyncio.sleep(0.2)
        finally:
            await admin.close()
        raise KafkaError(f"Kafka does not know all of the topics {list(self.topics)}")

    async def _consumer(self, start: Position | None) -> tuple[AIOKafkaConsumer, Position]:
        consumer = AIOKafkaConsumer(
            **kafka_options(self.bootstrap),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a position older than the log resumes at its start
        )
        await consumer.start()
        try:
            partitions = await self._partitions()
            consumer.assign(partitions)
            if start is None:
                await consumer.seek_to_end(*partitions)
                position = {tp: await consumer.position(tp) for tp in partitions}
            else:
                position = {}
                for tp in partitions:
                    if tp in start:
                        consumer.seek(tp, start[tp])
                        position[tp] = start[tp]
                    else:  # a partition added since: all of it is new to this viewer
                        await consumer.seek_to_beginning(tp)
                        position[tp] = await consumer.position(tp)
        except BaseException:
            await consumer.stop()
            raise
        return consumer, position

    async def ticks(
        self, last_event_id: str | None, *, idle_s: float | None = None
    ) -> AsyncIterator[tuple[str, CloudEvent | None]]:
        """`(position, event)` for every event shown after `last_event_id`, in order, and
        `(position, None)` after each `idle_s` seconds without one (when `idle_s` is set)."""
        async for position, _, event in self.located(last_event_id, idle_s=idle_s):
            yield position, event

    async def located(
        self, last_event_id: str | None, *, idle_s: float | None = None
    ) -> AsyncIterator[tuple[str, tuple[TopicPartition, int] | None, CloudEvent | None]]:
        """As `ticks`, with each event's own partition and offset (None beside no event)."""
        start = self.parse(last_event_id) if last_event_id else None
        consumer, position = await self._consumer(start)
        self._metrics.viewers.labels(feed=self.name).inc()
        try:
            yield self.token(position), None, None  # where this viewer starts
            quiet_since = time.monotonic()
            catching_up = start is not None
            while True:
                if catching_up:
                    records = await self._backlog(consumer, position)
                    catching_up = False
                else:
                    batches = await consumer.getmany(timeout_ms=self.poll_ms, max_records=500)
                    records = self._merge(batches)
                for record in records:
                    position[TopicPartition(record.topic, record.partition)] = record.offset + 1
                    event = self._shown(record)
                    if event is None:
                        continue
                    self._metrics.pushed.labels(feed=self.name, type=event.type).inc()
                    quiet_since = time.monotonic()
                    where = (TopicPartition(record.topic, record.partition), record.offset)
                    yield self.token(position), where, event
                if idle_s is not None and time.monotonic() - quiet_since >= idle_s:
                    quiet_since = time.monotonic()
                    yield self.token(position), None, None
        finally:
            self._metrics.viewers.labels(feed=self.name).dec()
            await consumer.stop()

    def _merge(
        self, batches: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]]
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """The records of several partitions as one sequence: each partition's in its own
        order, the partitions interleaved by timestamp (the oldest head first)."""
        queues = {tp: deque(records) for tp, records in batches.items() if records}
        merged: list[ConsumerRecord[bytes, bytes]] = []
        while queues:
            tp = min(
                queues,
                key=lambda t: (queues[t][0].timestamp, self.topics.index(t.topic), t.partition),
            )
            merged.append(queues[tp].popleft())
            if not queues[tp]:
                del queues[tp]
        return merged

    async def _backlog(
        self, consumer: AIOKafkaConsumer, position: Position
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """What a resuming viewer missed, read to the end of every partition before any of it
        is shown, so that the partitions interleave in the order the events were appended
        (up to `BACKLOG_MAX` records; the rest follows in the ordinary way)."""
        ends = await consumer.end_offsets(list(position))
        pending: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = defaultdict(list)
        deadline = time.monotonic() + BACKLOG_WAIT_S
        while sum(len(rs) for rs in pending.values()) < BACKLOG_MAX:
            behind = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
            if not behind or time.monotonic() > deadline:
                break
            batches = await consumer.getmany(*behind, timeout_ms=self.poll_ms, max_records=500)
            for tp, records in batches.items():
                pending[tp].extend(records)
        return self._merge(pending)

    async def follow(self, last_event_id: str | None) -> AsyncIterator[tuple[str, CloudEvent]]:
        """`(position, event)` for every event shown after `last_event_id` (from now when None)."""
        async for token, event in self.ticks(last_event_id):
            if event is not None:
                yield token, event


def sse_frame(position: str, event: CloudEvent | None) -> bytes:
    """One SSE message: an event, or (None) a position-only message that moves the viewer's
    last event id without showing anything."""
    if event is None:
        return f": heartbeat\nid: {position}\n\n".encode()
    data = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))
    return f"id: {position}\nevent: {event.type}\ndata: {data}\n\n".encode()


async def sse_response(
    feed: KafkaFeed, last_event_id: str | None, *, heartbeat_s: float = 15.0
) -> StreamingResponse:
    """`text/event-stream` of `feed` after `last_event_id` (the `Last-Event-ID` header).

    Checks the id first, so a bad one is a 400 problem rather than a broken stream."""
    if last_event_id:
        await feed.check(last_event_id)

    async def body() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        try:
            async for position, event in feed.ticks(last_event_id, idle_s=heartbeat_s):
                yield sse_frame(position, event)
        except KafkaError as exc:  # the client reconnects with its last id and misses nothing
            log.warning("live feed lost Kafka", extra={"error": repr(exc)})

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _first_frame(websocket: WebSocket) -> dict[str, Any]:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
        frame = json.loads(text)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        return {}
    return frame if isinstance(frame, dict) else {}


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # it may have left already
        await websocket.close(code, reason[:120])


async def websocket_relay(
    websocket: WebSocket,
    feed: KafkaFeed,
    *,
    keys: KeyStore,
    allowed: Callable[[Principal], bool],
    heartbeat_s: float = 15.0,
) -> None:
    """Relay `feed` to a WebSocket client as JSON text frames `{"id": position, "event": ...}`
    (`event` null for a position-only heartbeat, the first frame among them).

    The key comes in the `Authorization` header of the handshake or, from a browser, which
    cannot set one, in the first frame: `{"authorization": "Bearer <key>", "last_event_id":
    "<id>"}`. The last event id may also be the `last_event_id` query parameter. No key or an
    unknown one closes with 4401, a key that may not follow the feed with 4403, a bad last
    event id with 4400."""
    await websocket.accept()
    authorization = websocket.headers.get("authorization")
    last_event_id = websocket.query_params.get("last_event_id")
    if authorization is None:
        frame = await _first_frame(websocket)
        given = frame.get("authorization")
        authorization = given if isinstance(given, str) else None
        if isinstance(frame.get("last_event_id"), str):
            last_event_id = frame["last_event_id"] or None
    try:
        who = await keys.authenticate(authorization)
    except Problem as problem:
        await _close(websocket, WS_UNAUTHENTICATED, problem.detail)
        return
    if not allowed(who):
        await _close(websocket, WS_FORBIDDEN, "This key's roles may not follow this feed.")
        return
    if last_event_id:
        try:
            await feed.check(last_event_id)
        except Problem as problem:
            await _close(websocket, WS_BAD_POSITION, problem.detail)
            return

    async def watch_close() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:  # the client has nothing to say; this notices it leaving
                await websocket.receive_text()

    async def pump() -> None:
        async for position, event in feed.ticks(last_event_id, idle_s=heartbeat_s):
            frame = {"id": position, "event": event.to_json() if event is not None else None}
            await websocket.send_text(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    watcher = asyncio.create_task(watch_close())
    pumper = asyncio.create_task(pump())
    try:
        await asyncio.wait({watcher, pumper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watcher, pumper):
            task.cancel()
        for task in (watcher, pumper):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
    if pumper.done() and not pumper.cancelled() and isinstance(pumper.exception(), KafkaError):
        log.warning("live feed lost Kafka", extra={"error": repr(pumper.exception())})
        with contextlib.suppress(RuntimeError):
            await websocket.close(1011, "Kafka is unreachable; reconnect with your last id.")
