"""Dead letters: read a `<topic>.dlq`, and replay chosen records to their topic after a fix.

A dead letter is the record that failed, unchanged (its key and value; personal fields stay
sealed), with the reason in its headers (`fazhi-error`, `fazhi-consumer-group`,
`fazhi-attempts`, `fazhi-original-topic`/`-partition`/`-offset`). Replaying produces the same key
and value to the original topic, with the CloudEvent's headers as the api writes them (rebuilt
from the value: the dead letter keeps only its diagnostics) and `fazhi-replayed-from`. Every
consumer of that topic sees the record again; those that had applied it drop it by their ledger,
so a replay is safe to repeat. `fazhi dlq list|show|replay` (fazhi.cli) runs these with the
operators' Kafka login (`FAZHI_KAFKA_*`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from fazhi.bus.publisher import KafkaPublisher
from fazhi.contracts.envelope import EnvelopeFieldsError, from_kafka, kafka_headers
from fazhi.contracts.strictjson import EnvelopeError
from fazhi.kafkaclient import KafkaClient, kafka_options
from fazhi.topology import DLQ_SUFFIX

DIAGNOSTIC_PREFIX = "fazhi-"
REPLAYED_FROM = "fazhi-replayed-from"
READ_TIMEOUT_S = 300.0
"""A dead-letter topic is read whole within this (a broker that stops answering fails it)."""


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def position(self) -> str:
        """`partition:offset` in the dead-letter topic: how `show` and `replay` name it."""
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return ""

    @property
    def original_topic(self) -> str:
        return self.header("fazhi-original-topic") or self.topic.removesuffix(DLQ_SUFFIX)

    @property
    def event(self) -> tuple[str, str]:
        """The CloudEvent's type and id, or why the value is not one."""
        try:
            event = from_kafka(self.value)
        except (EnvelopeError, EnvelopeFieldsError) as exc:
            return ("(not a CloudEvent)", str(exc)[:80])
        return (event.type, event.id)

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record is produced again with."""
        kept = [(k, v) for k, v in self.headers if not k.startswith(DIAGNOSTIC_PREFIX)]
        try:
            rebuilt = kafka_headers(from_kafka(self.value))
        except (EnvelopeError, EnvelopeFieldsError):
            rebuilt = []
        names = {k for k, _ in kept}
        return [
            *kept,
            *((k, v) for k, v in rebuilt if k not in names),
            (REPLAYED_FROM, f"{self.topic}/{self.position}".encode()),
        ]

    def summary(self) -> str:
        kind, event_id = self.event
        origin = (
            f"{self.original_topic}/{self.header('fazhi-original-partition')}:"
            f"{self.header('fazhi-original-offset')}"
        )
        return (
            f"{self.position}\t{origin}\t{kind}\t{event_id}\t"
            f"{self.header('fazhi-consumer-group')}\t{self.header('fazhi-error')[:200]}"
        )


def parse_positions(values: Iterable[str]) -> set[tuple[int, int]]:
    """`partition:offset` strings (as `list` prints them) as pairs; ValueError for another form."""
    positions = set()
    for value in values:
        partition, sep, offset = value.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"{value!r} is not partition:offset (as `fazhi dlq list` prints)")
        positions.add((int(partition), int(offset)))
    return positions


def require_dlq(topic: str) -> None:
    if not topic.endswith(DLQ_SUFFIX):
        raise ValueError(f"{topic!r} is not a dead-letter topic (<topic>{DLQ_SUFFIX})")


async def read(kafka: KafkaClient | str, topic: str) -> list[DeadLetter]:
    """Every record the dead-letter topic holds now, partition by partition, oldest first."""
    require_dlq(topic)
    partitions = await _partitions(kafka, topic)
    consumer = AIOKafkaConsumer(
        **kafka_options(kafka), group_id=None, enable_auto_commit=False, request_timeout_ms=10000
    )
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        letters: list[DeadLetter] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            await _read_into(consumer, assigned, ends, topic, letters)
        return letters
    finally:
        await consumer.stop()


async def _read_into(
    consumer: AIOKafkaConsumer,
    assigned: Sequence[TopicPartition],
    ends: dict[TopicPartition, int],
    topic: str,
    letters: list[DeadLetter],
) -> None:
    for tp in assigned:
        while await consumer.position(tp) < ends[tp]:
            batch = await consumer.getmany(tp, timeout_ms=5000, max_records=500)
            letters.extend(
                DeadLetter(
                    topic=topic,
                    partition=record.partition,
                    offset=record.offset,
                    timestamp_ms=record.timestamp,
                    key=record.key,
                    value=record.value,
                    headers=tuple(record.headers or ()),
                )
                for record in batch.get(tp, [])
                if record.offset < ends[tp]
            )
        consumer.pause(tp)


async def _partitions(kafka: KafkaClient | str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**kafka_options(kafka), request_timeout_ms=10000)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described.get("error_code", 0) != 0 or not described["partitions"]:
        raise ValueError(f"Kafka has no topic {topic!r}")
    return sorted(p["partition"] for p in described["partitions"])


def choose(
    letters: Sequence[DeadLetter], positions: set[tuple[int, int]] | None
) -> list[DeadLetter]:
    """The dead letters at `positions` (all of them for None); ValueError naming any not held."""
    if positions is None:
        return list(letters)
    chosen = [d for d in letters if (d.partition, d.offset) in positions]
    missing = positions - {(d.partition, d.offset) for d in chosen}
    if missing:
        names = ", ".join(f"{p}:{o}" for p, o in sorted(missing))
        raise ValueError(f"the dead-letter topic holds nothing at {names}")
    return chosen


async def replay(kafka: KafkaClient | str, letters: Sequence[DeadLetter]) -> int:
    """Produce each dead letter again to its original topic (idempotent producer, acks=all), in
    the order given; returns how many were acknowledged."""
    publisher = KafkaPublisher(kafka, client_id="fazhi-dlq-replay")
    await publisher.start()
    try:
        for letter in letters:
            await publisher.send_raw(
                letter.original_topic,
                key=letter.key,
                value=letter.value,
                headers=letter.replay_headers(),
            )
    finally:
        await publisher.stop()
    return len(letters)
