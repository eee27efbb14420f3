"""With the broker down the api answers 503 and accepts nothing; it recovers when Kafka is back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
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
