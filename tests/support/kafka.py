"""Reading the real broker from tests: end offsets and whole topics."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.support.platform import KAFKA


async def partitions(topic: str) -> set[int]:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        return set(await producer.partitions_for(topic))
    finally:
        await producer.stop()


async def end_offsets(topic: str) -> dict[int, int]:
    known = await partitions(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in sorted(known)])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()


async def read_topic(topic: str, *, within: float = 10.0) -> list[Any]:
    """Every record now in `topic` (from the beginning up to the current end offsets)."""
    ends = await end_offsets(topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        tps = [TopicPartition(topic, p) for p, end in ends.items() if end > 0]
        if not tps:
            return records
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp: ends[tp.partition] for tp in tps}
        async with asyncio.timeout(within):
            while remaining:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, messages in batch.items():
                    records.extend(messages)
                    if messages and messages[-1].offset + 1 >= remaining.get(tp, 0):
                        remaining.pop(tp, None)
        return records
    finally:
        await consumer.stop()


async def produce_raw(topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA, acks="all", client_id=f"test-{uuid.uuid4().hex[:6]}"
    )
    await producer.start()
    try:
        for key, value in items:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()
