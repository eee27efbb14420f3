"""Reading the real broker from tests: end offsets, and the records appended since them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRecord,
    OffsetAndMetadata,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from tests.support.processes import KAFKA


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


async def read_topic(
    topic: str, *, since: Mapping[int, int] | None = None, within: float = 10.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The records now in `topic`, up to its current end offsets.

    With `since` (end offsets taken earlier with `end_offsets`), only the records appended
    after them: what a test produced, not the topic's whole history on a shared broker.
    A partition missing from `since` is read from its beginning.
    """
    ends = await end_offsets(topic)
    starts = {p: (since or {}).get(p, 0) for p in ends}
    wanted = {TopicPartition(topic, p): end for p, end in ends.items() if end > starts[p]}
    records: list[ConsumerRecord[bytes, bytes]] = []
    if not wanted:
        return records
    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        consumer.assign(list(wanted))
        for tp in wanted:
            if tp.partition in (since or {}):
                consumer.seek(tp, starts[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        remaining = dict(wanted)
        async with asyncio.timeout(within):
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, messages in batch.items():
                    end = remaining.get(tp)
                    if end is None:
                        continue
                    records.extend(m for m in messages if m.offset < end)
                    if messages and messages[-1].offset + 1 >= end:
                        remaining.pop(tp)
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


async def skip_to_end(group: str, topics: Iterable[str], *, within: float = 60.0) -> None:
    """Commit the current end offsets for consumer `group` on `topics` and on every topic it has
    committed offsets for, so its workers start from now: the databases they write are new each
    session, and replaying what other sessions (`make run`, benchmarks) left in the shared
    topics would only delay this session's own events. The group must have no live member; a
    member killed by the last session is waited out (its Kafka session expires)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    names = set(topics) | {tp.topic for tp in committed}
    ends: dict[TopicPartition, OffsetAndMetadata] = {}
    for topic in sorted(names):
        for partition, offset in (await end_offsets(topic)).items():
            ends[TopicPartition(topic, partition)] = OffsetAndMetadata(offset, "")
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        async with asyncio.timeout(within):
            while True:
                try:
                    await consumer.commit(ends)
                    return
                except KafkaError:  # a member of the group is still alive
                    await asyncio.sleep(1)
    finally:
        await consumer.stop()
