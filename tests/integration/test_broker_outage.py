"""With the broker down the api answers 503 and accepts nothing; it recovers when Kafka is back."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from aiokafka.partitioner import murmur2
from pymongo import MongoClient

from tests.conftest import client_for
from tests.support.kafka import end_offsets, read_topic
from tests.support.processes import (
    Service,
    ServiceProcesses,
    progress,
    stack,
    structured,
    task_history,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.outage]


async def test_broker_down_answers_503_and_accepts_nothing(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    task_id = f"O-{uuid.uuid4().hex[:8]}"
    refused = progress("justice", task_id, 20)
    before = await end_offsets(supervision.topic)
    stack("kafka-stop")
    try:
        with client_for(supervision, keys["justice"]) as http:
            response = http.post("/v1/events", **structured(refused))
            ready = http.get("/readyz")
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert "nothing was accepted" in response.json()["detail"]
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"kafka": "unreachable", "mongodb": "ok"}
    finally:
        stack("kafka-start")

    wait_until(
        lambda: httpx.get(f"{supervision.url}/readyz", timeout=15).status_code == 200,
        timeout=120,
        what="api ready again",
    )
    accepted = progress("justice", task_id, 90)
    with client_for(supervision, keys["justice"]) as http:
        assert http.post("/v1/events", **structured(accepted)).status_code == 202
    wait_until(
        lambda: mongo[supervision.db]["tasks"].find_one({"_id": task_id}),
        timeout=120,
        what="event after recovery projected",
    )
    assert task_history(mongo, supervision, task_id) == [accepted["id"]]
    records = await read_topic(supervision.topic, since=before, within=30)
    assert [r for r in records if accepted["id"].encode() in r.value]
    assert not [r for r in records if refused["id"].encode() in r.value]


def _subject_per_partition(partitions: int) -> dict[int, str]:
    """One task id whose key lands on each partition (Kafka's murmur2 of the subject)."""
    found: dict[int, str] = {}
    while len(found) < partitions:
        task_id = f"R-{uuid.uuid4().hex[:8]}"
        found.setdefault(murmur2(task_id.encode()) % partitions, task_id)
    return found


def _post(url: str, key: str, body: dict[str, Any]) -> int:
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            response = http.post(
                "/v1/events",
                content=structured(body)["content"],
                headers={
                    "authorization": f"Bearer {key}",
                    "content-type": "application/cloudevents+json",
                },
            )
    except httpx.TransportError:
        return 0
    return response.status_code


@pytest.mark.parametrize("how", ["kafka-stop", "kafka-kill"])
def test_every_partition_accepts_again_soon_after_the_broker_returns(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    supervision: Service,
    how: str,
) -> None:
    """A broker restart (TERM, or kill -9) with sends in flight: no api restart is needed.

    The api's producer had records in flight to every partition when the broker went; once it
    is back, every partition takes events within 15 s, and `/readyz` said 503 until then.
    """
    before = asyncio.run(end_offsets(supervision.topic))
    subjects = _subject_per_partition(len(before))
    key = keys["justice"]
    kept = progress("justice", next(iter(subjects.values())), 5)
    assert _post(supervision.url, key, kept) == 202
    stop_burst = threading.Event()

    def burst() -> None:
        while not stop_burst.is_set():
            for task_id in subjects.values():
                _post(supervision.url, key, progress("justice", task_id, 10))

    senders = [threading.Thread(target=burst, daemon=True) for _ in range(4)]
    for sender in senders:
        sender.start()
    time.sleep(1.0)
    stack(how)
    try:
        time.sleep(3.0)
        stop_burst.set()
        for sender in senders:
            sender.join(timeout=60)
        assert httpx.get(f"{supervision.url}/readyz", timeout=15).status_code == 503
        # reads stay in the load balancer: read readiness asks MongoDB only
        assert httpx.get(f"{supervision.url}/readyz/read", timeout=15).status_code == 200
        time.sleep(7.0)
    finally:
        stack("kafka-start")
    back = time.monotonic()

    def every_partition_accepts() -> bool:
        ready = httpx.get(f"{supervision.url}/readyz", timeout=15).status_code
        statuses = [
            _post(supervision.url, key, progress("justice", task_id, 50))
            for task_id in subjects.values()
        ]
        if ready == 200:
            assert statuses == [202] * len(subjects), f"/readyz said 200, posts got {statuses}"
        return all(status == 202 for status in statuses)

    wait_until(every_partition_accepts, timeout=60, what="every partition accepting again")
    recovered_s = time.monotonic() - back
    assert recovered_s <= 15, f"every partition accepted again only after {recovered_s:.1f} s"
    for _ in range(3):
        assert [
            _post(supervision.url, key, progress("justice", task_id, 60))
            for task_id in subjects.values()
        ] == [202] * len(subjects)
    assert httpx.get(f"{supervision.url}/readyz", timeout=15).status_code == 200
    records = asyncio.run(read_topic(supervision.topic, since=before, within=30))
    assert [r for r in records if kept["id"].encode() in r.value], "lost across the restart"
