"""`fazhi dlq replay` against the real broker: a dead letter goes back to its original topic
with its key and value, the CloudEvent's headers and where it was replayed from."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from fazhi.contracts.envelope import kafka_headers, new_event
from tests.support.kafka import read_topic
from tests.support.processes import KAFKA, ROOT

pytestmark = pytest.mark.integration


async def create(*topics: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, num_partitions=1, replication_factor=1) for t in topics]
        )
    finally:
        await admin.close()


async def delete(*topics: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.delete_topics(list(topics))
    finally:
        await admin.close()


async def produce(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def fazhi(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FAZHI_KAFKA_BOOTSTRAP": KAFKA}
    return subprocess.run(
        [sys.executable, "-m", "fazhi.cli", "dlq", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_dead_letter_is_replayed_to_its_topic_after_a_fix() -> None:
    topic = f"test-dlq-{uuid.uuid4().hex[:8]}.events"
    dead = f"{topic}.dlq"
    event = new_event(
        type="emergency.alert.acknowledged",
        source="/units/emergency-management",
        subject="A-1",
        data={"alert_id": "A-1", "staff_id": "S-7", "acknowledged_at": "2026-07-20T14:05:00+08:00"},
    )
    asyncio.run(create(topic, dead))
    try:
        diagnostics = [
            ("fazhi-error", b"'A-1' does not exist (yet)"),
            ("fazhi-consumer-group", b"emergency-worker"),
            ("fazhi-attempts", b"1"),
            ("fazhi-original-topic", topic.encode()),
            ("fazhi-original-partition", b"0"),
            ("fazhi-original-offset", b"12"),
        ]
        asyncio.run(produce(dead, b"A-1", event.to_bytes(), diagnostics))

        listed = fazhi("list", dead)
        assert listed.returncode == 0, listed.stderr
        assert f"0:0\t{topic}/0:12\temergency.alert.acknowledged\t{event.id}" in listed.stdout

        dry = fazhi("replay", dead, "0:0", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert asyncio.run(read_topic(topic)) == []

        assert fazhi("replay", dead, "0:1").returncode != 0, "no dead letter at 0:1"
        replayed = fazhi("replay", dead, "0:0")
        assert replayed.returncode == 0, replayed.stderr
        (record,) = asyncio.run(read_topic(topic, within=30))
        assert (record.key, record.value) == (b"A-1", event.to_bytes())
        assert list(record.headers) == [
            *kafka_headers(event),
            ("fazhi-replayed-from", f"{dead}/0:0".encode()),
        ]
    finally:
        asyncio.run(delete(topic, dead))
