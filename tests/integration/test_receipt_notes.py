"""The api's notes for receipts (`fazhi.receipts.writer`), on the real store and Kafka: a note
is held, then written only when the worker group has not taken its record; what the group has
taken is read from its committed offsets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.bus.progress import WorkerProgress
from fazhi.bus.publisher import Placement
from fazhi.contracts.envelope import CloudEvent, new_event
from fazhi.receipts.writer import ACCEPTED, ReceiptWriter
from tests.support.processes import KAFKA, scratch_database

TOPIC = "supervision.events"


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    async with scratch_database("test_receipt_notes") as fresh:
        yield fresh


def posted(offset: int, partition: int = 0) -> tuple[CloudEvent, Placement]:
    event = new_event(
        type="supervision.task.progress_reported",
        source="/units/justice",
        subject="M01-T1",
        data={"task_id": "M01-T1"},
        id=f"E-{offset}-{uuid.uuid4().hex[:6]}",
    )
    return event, Placement(TOPIC, partition, offset, datetime.now(UTC))


def taken(offsets: Mapping[tuple[str, int], int]) -> Any:
    async def progress() -> Mapping[tuple[str, int], int]:
        return offsets

    return progress


async def written(db: AsyncDatabase[dict[str, Any]]) -> list[int]:
    return sorted([doc["offset"] async for doc in db[ACCEPTED].find({})])


async def test_a_note_is_written_after_its_hold_only_when_the_worker_has_not_taken_its_record(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    writer = ReceiptWriter(db, progress=taken({(TOPIC, 0): 5}), hold_s=0.3, interval_s=0.05)
    notes = [posted(3), posted(7), posted(2, partition=1)]
    writer.note([e for e, _ in notes], [p for _, p in notes])
    writer.start()
    try:
        await asyncio.sleep(0.1)
        # Held: nothing written yet, and this api answers from what it holds.
        assert await written(db) == []
        assert writer.pending(notes[0][0].key) is not None
        await asyncio.sleep(0.6)
        # Offset 3 of partition 0 is taken (its ledger entry is the receipt); 7 is not, and
        # the group has taken nothing of partition 1.
        assert await written(db) == [2, 7]
        assert writer.pending(notes[0][0].key) is None
        assert (writer.answered, writer.written) == (1, 2)
    finally:
        await writer.stop()


async def test_every_note_is_written_when_the_worker_s_progress_cannot_be_read(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    async def unreadable() -> Mapping[tuple[str, int], int]:
        raise ConnectionError("Kafka is away")

    writer = ReceiptWriter(db, progress=unreadable, hold_s=0.1, interval_s=0.05)
    notes = [posted(1), posted(2)]
    writer.note([e for e, _ in notes], [p for _, p in notes])
    writer.start()
    try:
        await asyncio.sleep(0.5)
        assert await written(db) == [1, 2]
    finally:
        await writer.stop()


async def test_stopping_writes_every_held_note_the_worker_has_not_taken(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    writer = ReceiptWriter(db, progress=taken({(TOPIC, 0): 2}), hold_s=60, interval_s=0.05)
    notes = [posted(1), posted(4)]
    writer.note([e for e, _ in notes], [p for _, p in notes])
    writer.start()
    await asyncio.sleep(0.2)
    assert await written(db) == []
    await writer.stop()
    assert await written(db) == [4]


async def test_the_progress_is_the_group_s_committed_offsets() -> None:
    topic, group = f"test-progress-{uuid.uuid4().hex[:8]}", f"test-group-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, b"x", partition=i % 2)
    finally:
        await producer.stop()
    progress = WorkerProgress(KAFKA, group)
    try:
        assert await progress() == {}  # a group that never committed has taken nothing
        consumer = AIOKafkaConsumer(
            bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        consumer.assign([TopicPartition(topic, 0)])
        try:
            await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
        finally:
            await consumer.stop()
        assert await progress() == {(topic, 0): 2}
    finally:
        await progress.close()


async def test_a_note_whose_write_failed_is_still_held_and_written_at_the_next_try(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    away: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1", serverSelectionTimeoutMS=300
    )
    try:
        writer = ReceiptWriter(away["nowhere"], progress=taken({}), hold_s=0)
        event, placed = posted(9)
        writer.note([event], [placed])
        with pytest.raises(PyMongoError):
            await writer.flush()
        assert writer.pending(event.key) is not None  # this api still answers `accepted`
    finally:
        await away.close()
    writer._collection = db[ACCEPTED]  # the store is back
    await writer.flush()
    assert await written(db) == [9]
    assert writer.pending(event.key) is None
