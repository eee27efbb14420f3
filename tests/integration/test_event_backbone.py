"""The event backbone on the real stack: POST → Kafka → worker → MongoDB, exactly once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from pymongo import MongoClient

from tests.conftest import client_for
from tests.support.kafka import end_offsets, produce_raw, read_topic
from tests.support.processes import (
    SERVICES,
    Service,
    ServiceProcesses,
    progress,
    structured,
    task_history,
    wait_until,
    worker_consumed,
)

pytestmark = pytest.mark.integration


def _task(
    mongo: MongoClient[dict[str, Any]], service: Service, task_id: str
) -> dict[str, Any] | None:
    return mongo[service.db]["tasks"].find_one({"_id": task_id})


def test_event_posted_twice_is_accepted_twice_and_projected_once(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    task_id = f"T-{uuid.uuid4().hex[:8]}"
    event = progress("justice", task_id, 60)
    with client_for(supervision, keys["justice"]) as http:
        first = http.post("/v1/events", **structured(event))
        second = http.post("/v1/events", **structured(event))
    assert first.status_code == 202, first.text
    assert second.status_code == 202, second.text
    assert first.json()["accepted"] == second.json()["accepted"] == [event["id"]]
    receipts = [first.json()["receipts"][0], second.json()["receipts"][0]]
    assert [r["topic"] for r in receipts] == [supervision.topic] * 2  # each its own record
    assert receipts[0]["offset"] != receipts[1]["offset"]

    doc = wait_until(lambda: _task(mongo, supervision, task_id), timeout=60, what="task projected")
    assert doc["progress_pct"] == 60
    wait_until(
        lambda: mongo[supervision.db]["processed_events"].count_documents({"id": event["id"]}) == 1,
        timeout=30,
        what="ledger entry",
    )
    # Let the worker also consume the duplicate record, then check it changed nothing.
    marker = progress("justice", task_id, 61)
    with client_for(supervision, keys["justice"]) as http:
        assert http.post("/v1/events", **structured(marker)).status_code == 202
    wait_until(
        lambda: (_task(mongo, supervision, task_id) or {}).get("progress_pct") == 61,
        timeout=60,
        what="marker projected",
    )
    assert task_history(mongo, supervision, task_id) == [event["id"], marker["id"]]


def test_batch_and_binary_modes_are_projected(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    tasks = [f"T-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    batch = [progress("justice", t, 10) for t in tasks[:2]]
    binary = progress("justice", tasks[2], 30)
    headers = {f"ce-{k}": str(v) for k, v in binary.items() if k not in ("data", "datacontenttype")}
    with client_for(supervision, keys["justice"]) as http:
        r1 = http.post(
            "/v1/events",
            content=json.dumps(batch).encode(),
            headers={"content-type": "application/cloudevents-batch+json"},
        )
        r2 = http.post(
            "/v1/events",
            content=json.dumps(binary["data"]).encode(),
            headers={"content-type": "application/json", **headers},
        )
    assert r1.status_code == 202, r1.text
    assert r1.json()["accepted"] == [e["id"] for e in batch]
    assert r2.status_code == 202, r2.text
    for task_id, pct in zip(tasks, (10, 10, 30), strict=True):
        doc = wait_until(
            lambda t=task_id: _task(mongo, supervision, t), timeout=60, what=f"{task_id} projected"
        )
        assert doc["progress_pct"] == pct


def test_worker_killed_mid_stream_still_projects_every_event_exactly_once(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    run = uuid.uuid4().hex[:6]
    task_ids = [f"K-{run}-{i}" for i in range(12)]
    # A backlog of several seconds' work, so the kill below lands mid-stream however fast the
    # worker is.
    events = [progress("justice", task_ids[i % len(task_ids)], i % 100) for i in range(6000)]
    ids = [e["id"] for e in events]

    def applied() -> int:
        """Events in their tasks' timelines: written with the tasks, in the same step."""
        history = mongo[supervision.db]["task_history"]
        return sum(history.count_documents({"task_id": task_id}) for task_id in task_ids)

    def applied_by_worker() -> float:
        return worker_consumed(supervision, outcome="applied")

    def restart_worker() -> None:
        services_up.start_worker(supervision)
        services_up.wait_ready(
            f"{supervision.name}-worker", f"{supervision.worker_url}/metrics", what="worker up"
        )

    def worker_idle() -> bool:
        before = worker_consumed(supervision)
        time.sleep(1)
        return worker_consumed(supervision) == before

    # Kill the worker between records, not in the middle of the previous tests' writes.
    wait_until(worker_idle, timeout=60, what="worker idle")
    try:
        # The backlog builds up while the worker is down, so the kill below lands mid-stream.
        services_up.kill_worker(supervision)
        with client_for(supervision, keys["justice"]) as http:
            for chunk in range(0, len(events), 100):
                response = http.post(
                    "/v1/events",
                    content=json.dumps(events[chunk : chunk + 100]).encode(),
                    headers={"content-type": "application/cloudevents-batch+json"},
                )
                assert response.status_code == 202, response.text
        assert applied() == 0

        # Progress is read from the worker's /metrics while it runs (it counts an event as
        # applied once its batch is written): no store query every 250 ms competes with its
        # writes. The timelines and the ledger are counted below.
        restart_worker()
        wait_until(lambda: applied_by_worker() >= 100, timeout=90, what="100 events applied")
        services_up.kill_worker(supervision)
        killed_at = applied()
        assert 100 <= killed_at < len(events), (
            f"{killed_at} of {len(events)} events were applied at the kill: nothing was tested"
        )

        restart_worker()
        wait_until(lambda: applied_by_worker() >= 1, timeout=90, what="restarted worker applying")
        wait_until(
            lambda: applied() >= len(events),
            timeout=180,
            interval=1.0,
            what=f"all {len(events)} events applied after the restart (killed at {killed_at})",
        )
    finally:  # leave a supervision worker running for the tests after this one
        if f"{supervision.name}-worker" not in services_up.procs:
            restart_worker()

    ledger = mongo[supervision.db]["processed_events"]
    assert ledger.count_documents({"id": {"$in": ids}, "outcome": "applied"}) == len(events)
    for task_id in task_ids:
        expected = [e["id"] for e in events if e["subject"] == task_id]
        got = task_history(mongo, supervision, task_id)
        assert got == expected, (
            f"{task_id}: history has {len(got)} entries ({len(set(got))} distinct), "
            f"expected its {len(expected)} events in order"
        )


async def test_poison_record_goes_to_dlq_and_the_partition_keeps_flowing(
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    task_id = f"P-{uuid.uuid4().hex[:8]}"
    poison_marker = uuid.uuid4().hex
    good = progress("justice", task_id, 77)
    bad_data = progress("justice", task_id, 50)
    bad_data["data"]["progress_pct"] = 500
    dlq = f"{supervision.topic}.dlq"
    before = await end_offsets(dlq)
    await produce_raw(
        supervision.topic,
        [
            (task_id.encode(), b'{"not json": ' + poison_marker.encode()),
            (task_id.encode(), json.dumps(bad_data).encode()),
            (task_id.encode(), json.dumps(good).encode()),
        ],
    )
    doc = wait_until(
        lambda: _task(mongo, supervision, task_id), timeout=60, what="good event projected"
    )
    assert doc["progress_pct"] == 77
    assert task_history(mongo, supervision, task_id) == [good["id"]]

    # Other consumer groups on a shared broker (`make run`'s worker) dead-letter the same
    # records: keep only the letters of this test's worker.
    async def ours() -> list[Any]:
        letters = await read_topic(dlq, since=before)
        return [
            r
            for r in letters
            if r.key == task_id.encode()
            and dict(r.headers).get("fazhi-consumer-group") == supervision.worker_group.encode()
        ]

    deadline = time.monotonic() + 30
    letters = await ours()
    while len(letters) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        letters = await ours()
    assert len(letters) == 2, [dict(r.headers) for r in letters]
    assert poison_marker.encode() in letters[0].value
    assert letters[1].value == json.dumps(bad_data).encode()
    errors = [dict(r.headers)["fazhi-error"].decode() for r in letters]
    assert "not a CloudEvent" in errors[0]
    assert "progress_pct" in errors[1]


BAD_REQUESTS = {
    400: dict(
        kind="unknown type",
        body=lambda: {**progress("justice", "T-x"), "type": "supervision.task.teleported"},
    ),
    401: dict(kind="no key", key=None),
    403: dict(kind="other unit", body=lambda: progress("audit", "T-x")),
    413: dict(
        kind="too large", body=lambda: {**progress("justice", "T-x"), "pad": "x" * (1024 * 1024)}
    ),
    415: dict(kind="plain json", content_type="application/json"),
    422: dict(kind="bad data", body=lambda: progress("justice", "T-x", 101)),
}


def _mentions(record: Any, text: str) -> bool:
    """Whether a Kafka record carries `text` in its value or a header."""
    needle = text.encode()
    return needle in (record.value or b"") or any(needle in v for _, v in record.headers)


@pytest.mark.parametrize("status", sorted(BAD_REQUESTS))
async def test_rejected_request_leaves_kafka_and_mongodb_untouched(
    status: int,
    services_up: ServiceProcesses,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    supervision: Service,
) -> None:
    case = BAD_REQUESTS[status]
    body = case.get("body", lambda: progress("justice", "T-x"))()
    subject = body["subject"] = body["data"]["task_id"] = f"R-{uuid.uuid4().hex[:8]}"
    key = case["key"] if "key" in case else keys["justice"]
    before = await end_offsets(supervision.topic)

    with client_for(supervision, key) as http:
        response = http.post(
            "/v1/events",
            content=json.dumps(body).encode(),
            headers={"content-type": case.get("content_type", "application/cloudevents+json")},
        )

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    if status == 422:
        assert any(e["field"] == "data.progress_pct" for e in problem["errors"])

    # A valid event on the same subject (so the same partition) after the rejected one: once
    # the worker has projected it, anything posted before it would have been seen too.
    marker = progress("justice", subject, 10)
    with client_for(supervision, keys["justice"]) as http:
        accepted = http.post("/v1/events", **structured(marker))
    assert accepted.status_code == 202, accepted.text

    def marker_projected() -> list[str] | None:
        history = task_history(mongo, supervision, subject)
        return history if marker["id"] in history else None

    history = wait_until(marker_projected, timeout=60, what="marker event projected")

    appended = await read_topic(supervision.topic, since=before, within=30)
    assert [r for r in appended if _mentions(r, marker["id"])], "the marker is not in Kafka"
    assert not [r for r in appended if _mentions(r, body["id"])], "the rejected event reached Kafka"
    assert body["id"] not in history, "the rejected event was projected"
    assert history == [marker["id"]]
    assert mongo[supervision.db]["processed_events"].count_documents({"id": body["id"]}) == 0


def test_every_service_refuses_types_it_does_not_own(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    event = progress("justice", "T-x")
    with client_for(SERVICES["emergency"], keys["justice"]) as http:
        response = http.post("/v1/events", **structured(event))
    assert response.status_code == 400
    assert "emergency.incident.reported" in response.json()["accepted_types"]
