"""Deliveries to a unit's own system, with a real HTTP receiver started here on 127.0.0.1: a
unit subscribed gets, signed (verified with `standardwebhooks`), exactly what a scripted
sequence caused for it (an overdue milestone, a red alert it issued and nobody acknowledged, the
escalation of the milestone's item, a refusal of its own event, a statutory clock of a case about
to pass) and nothing about another
unit; the receiver answers 500 for a while, then 200, and every delivery arrives after it
recovers, each id once in its verified set. A receiver that never recovers gets its
subscription disabled and an item opened for its unit; the unit's live feed shows the same."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from standardwebhooks import Webhook, WebhookVerificationError

from fazhi.rules import start_clock
from tests.conftest import client_for, create_key
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

SUPERVISION = SERVICES["supervision"]
EMERGENCY = SERVICES["emergency"]
MEDIATION = SERVICES["petition-mediation"]
KINDS = ["receipts", "items", "tasks", "clocks"]


@dataclass
class Endpoint:
    """One subscription's path on the receiver: its secret, what it answered, what verified."""

    secret: str = ""
    failing_until: float = 0.0
    answers: list[tuple[str, int, float]] = field(default_factory=list)
    """(webhook-id, status answered, when)."""
    verified: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each webhook-id answered 200, once, with its CloudEvent: duplicates dropped by id."""
    redeliveries: int = 0
    bad_signatures: int = 0


class Receiver:
    """A department system's webhook receiver, on a thread: verifies each delivery with
    `standardwebhooks`, answers 500 while its endpoint is failing, else 200."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver.receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            endpoint = self.endpoints.get(path)
            if endpoint is None:
                return 404
            msg_id = headers.get("webhook-id", headers.get("Webhook-Id", ""))
            try:
                delivered = Webhook(endpoint.secret).verify(body, headers)
            except WebhookVerificationError:
                endpoint.bad_signatures += 1
                return 400
            now = time.monotonic()
            status = 500 if now < endpoint.failing_until else 200
            endpoint.answers.append((msg_id, status, now))
            if status == 200:
                if msg_id in endpoint.verified:
                    endpoint.redeliveries += 1
                else:
                    endpoint.verified[msg_id] = delivered
            return status

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def subscribe(
    receiver: Receiver, path: str, key: str, *, fail_for_s: float = 0.0, kinds: list[str] = KINDS
) -> dict[str, Any]:
    with client_for(SUPERVISION, key) as http:
        response = http.post("/v1/subscriptions", json={"url": receiver.url(path), "kinds": kinds})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["secret"].startswith("whsec_")
    receiver.endpoints[path] = Endpoint(
        secret=created["secret"], failing_until=time.monotonic() + fail_for_s
    )
    return created


def refuse_an_event(key: str, unit: str) -> dict[str, Any]:
    """An event of `unit` the worker refuses: a rectification of an item that does not exist."""
    item_id = f"finding-none-{uuid.uuid4().hex[:8]}"
    refused = event(
        "supervision.item.rectified",
        unit,
        item_id,
        {
            "item_id": item_id,
            "unit": unit,
            "rectified_at": datetime.now(CST).isoformat(),
            "note": "已整改",
        },
    )
    with client_for(SUPERVISION, key) as http:
        assert http.post("/v1/events", **structured(refused)).status_code == 202
    return refused


def red_alert(key: str, unit: str) -> str:
    alert_id = f"DA-{uuid.uuid4().hex[:8]}"
    now = datetime.now(CST)
    issued = event(
        "emergency.alert.issued",
        unit,
        alert_id,
        {
            "alert_id": alert_id,
            "msg_type": "alert",
            "level": "red",
            "category": "气象",
            "headline": "暴雨红色预警",
            "description": "未来3小时将出现100毫米以上降水",
            "area": "碑林区",
            "effective": now.isoformat(),
            "expires": (now + timedelta(hours=6)).isoformat(),
        },
    )
    with client_for(EMERGENCY, key) as http:
        assert http.post("/v1/events", **structured(issued)).status_code == 202
    return alert_id


def file_a_petition_due_soon(key: str, unit: str) -> str:
    """A petition `unit` received long enough ago that its acceptance (the unit's to decide)
    falls due within the next three days: its clock is about to pass."""
    case_id = f"XF-{uuid.uuid4().hex[:8]}"
    today = datetime.now(CST).date()
    filed_on = next(
        today - timedelta(days=back)
        for back in range(60)
        if 0
        <= (start_clock("petition.acceptance", today - timedelta(days=back)).due_on - today).days
        <= 3
    )
    filed = event(
        "mediation.case.filed",
        unit,
        case_id,
        {
            "case_id": case_id,
            "case_type": "petition",
            "category": "行政处罚",
            "applicant": {"name": "赵六", "phone": "13991234567"},
            "respondent_unit": "market-regulation",
            "summary": "赵六反映执法问题",
            "filed_at": datetime.combine(filed_on, clock_time(10), CST).isoformat(),
        },
    )
    with client_for(MEDIATION, key) as http:
        response = http.post("/v1/events", **structured(filed))
        assert response.status_code == 202, response.text
    return case_id


def plant_overdue_milestone(mongo: MongoClient[dict[str, Any]], unit: str, days: int) -> str:
    """A milestone of `unit` that fell due `days` ago, under watch from today. The plan's own
    milestones all fell due before the tests started (their items are opened when the worker
    starts), so the test plants one the deadline watcher has not seen."""
    task_id = f"MX-{uuid.uuid4().hex[:8]}-D1"
    today = datetime.now(CST).date()
    due = today - timedelta(days=days)
    mongo[SUPERVISION.db]["tasks"].insert_one(
        {
            "_id": task_id,
            "kind": "milestone",
            "measure": "测试",
            "summary": "测试里程碑",
            "unit": unit,
            "lead_units": [unit],
            "responsible_units": [],
            "owner_units": [unit],
            "due_at": datetime.combine(due, clock_time(23, 59, 59), CST),
            "due_day": due.isoformat(),
            "watch_day": today.isoformat(),
            "status": "not_started",
            "progress_pct": 0,
        }
    )
    return task_id


def summary(delivered: dict[str, Any]) -> tuple[str, str]:
    return delivered["type"], delivered["subject"]


def test_a_unit_receives_exactly_its_deliveries_signed_and_all_after_its_receiver_recovers(
    services_up: ServiceProcesses, mongo: MongoClient[dict[str, Any]], receiver: Receiver
) -> None:
    unit, other = "street-taiyilu", "street-wenyilu"
    key, other_key = create_key(unit, "department"), create_key(other, "department")
    ours = subscribe(receiver, "/ours", key, fail_for_s=6.0)
    subscribe(receiver, "/theirs", other_key)

    refused = refuse_an_event(key, unit)
    theirs_refused = refuse_an_event(other_key, other)
    alert_id = red_alert(key, unit)
    other_alert = red_alert(other_key, other)
    task_id = plant_overdue_milestone(mongo, unit, days=45)
    case_id = file_a_petition_due_soon(key, unit)

    expected = {
        ("mediation.case.due_soon", case_id),  # its acceptance is the unit's, due in ≤ 3 days
        ("fazhi.receipt.refused", refused["subject"]),
        ("supervision.item.opened", f"alert-{alert_id}"),
        ("supervision.item.opened", f"unack-{alert_id}"),  # nobody acknowledged it in 3 s
        ("supervision.task.overdue", task_id),
        ("supervision.item.opened", f"task-{task_id}"),
        ("supervision.item.escalated", f"task-{task_id}"),  # 约谈: 44 days on the ladder
    }
    endpoint = receiver.endpoints["/ours"]

    def everything() -> bool:
        with receiver.lock:
            got = {summary(d) for d in endpoint.verified.values()}
        return expected <= got

    wait_until(everything, timeout=90, what="every delivery of the unit, verified")
    time.sleep(5)  # whatever else was coming for it has come by now
    with receiver.lock:
        verified = dict(endpoint.verified)
        answers = list(endpoint.answers)
        theirs = dict(receiver.endpoints["/theirs"].verified)
    assert sorted(summary(d) for d in verified.values()) == sorted(expected)  # each id once
    assert endpoint.bad_signatures == 0
    for delivered in verified.values():
        assert delivered["source"] == f"/units/{unit}"
        if delivered["type"] != "fazhi.receipt.refused":
            assert delivered["data"]["unit"] == unit
    (receipt,) = [d for d in verified.values() if d["type"] == "fazhi.receipt.refused"]
    assert receipt["data"]["event_id"] == refused["id"]
    assert "does not exist" in receipt["data"]["problem"]["detail"]
    assert "note" not in json.dumps(receipt["data"])

    failed = [a for a in answers if a[1] == 500]
    assert failed, "the receiver failed first, so some deliveries were tried again"
    recovered_at = min(t for _, status, t in answers if status == 200)
    assert all(t >= recovered_at for _, status, t in answers if status == 200)
    assert {msg_id for msg_id, _, _ in failed} <= set(verified)  # each failed one came again
    redelivered = len(answers) - len(verified)
    print(f"deliveries: {len(verified)}, attempts: {len(answers)}, retried: {redelivered}")

    # None about the other unit came to this one; the other got its own.
    assert ("fazhi.receipt.refused", theirs_refused["subject"]) in {
        summary(d) for d in theirs.values()
    }
    assert ("supervision.item.opened", f"alert-{other_alert}") in {
        summary(d) for d in theirs.values()
    }
    assert all(d["source"] == f"/units/{other}" for d in theirs.values())

    # The delivery log: attempts, status codes and latency of each.
    with client_for(SUPERVISION, key) as http:
        log = http.get(f"/v1/subscriptions/{ours['subscription_id']}/deliveries").json()
        assert {d["delivery_id"] for d in log["items"]} == set(verified)
        for delivery in log["items"]:
            assert delivery["status"] == "delivered"
            assert delivery["attempts"][-1]["status_code"] == 200
            assert delivery["attempts"][-1]["latency_ms"] >= 0
        retried = [d for d in log["items"] if len(d["attempts"]) > 1]
        assert retried
        assert all(d["attempts"][0]["status_code"] == 500 for d in retried)

        # Redelivery by id: the same webhook-id again, which the receiver drops.
        again = log["items"][0]["delivery_id"]
        path = f"/v1/subscriptions/{ours['subscription_id']}/deliveries/{again}/redeliver"
        assert http.post(path).status_code == 202
        wait_until(lambda: endpoint.redeliveries >= 1, timeout=30, what="the redelivery received")
        assert len(endpoint.verified) == len(expected)
    with client_for(SUPERVISION, other_key) as http:  # another unit's key: as unknown
        assert http.get(f"/v1/subscriptions/{ours['subscription_id']}").status_code == 404


def test_a_receiver_that_never_recovers_is_disabled_and_its_unit_supervised(
    services_up: ServiceProcesses, receiver: Receiver, keys: dict[str, str]
) -> None:
    unit = "street-zhangjiacun"
    key = create_key(unit, "department")
    created = subscribe(receiver, "/down", key, fail_for_s=3600)
    refuse_an_event(key, unit)
    sub_id = created["subscription_id"]
    with client_for(SUPERVISION, key) as http:
        disabled = wait_until(
            lambda: (
                (r := http.get(f"/v1/subscriptions/{sub_id}").json())["status"] == "disabled" and r
            ),
            timeout=90,
            what="the subscription disabled after the whole (test) schedule failed",
        )
        assert disabled["disabled_reason"]
        (delivery,) = http.get(f"/v1/subscriptions/{sub_id}/deliveries").json()["items"]
        assert delivery["status"] == "failed"
        assert [a["status_code"] for a in delivery["attempts"]] == [500] * 7
    with client_for(SUPERVISION, keys["supervisor"]) as supervisor:
        item = wait_until(
            lambda: (
                (r := supervisor.get(f"/v1/items/delivery-{sub_id}")).status_code == 200
                and r.json()
            ),
            timeout=30,
            what="the item opened for the unit",
        )
        assert (item["kind"], item["unit"], item["status"]) == ("delivery_failing", unit, "open")
    receiver.endpoints["/down"].failing_until = 0.0
    with client_for(SUPERVISION, key) as http:
        enabled = http.patch(f"/v1/subscriptions/{sub_id}", json={"status": "active"})
        assert enabled.json()["status"] == "active"
    with client_for(SUPERVISION, keys["supervisor"]) as supervisor:
        wait_until(
            lambda: supervisor.get(f"/v1/items/delivery-{sub_id}").json()["status"] == "closed",
            timeout=30,
            what="the item closed once the subscription is enabled again",
        )


def test_subscriptions_refuse_private_addresses_only_tests_allow_and_foreign_kinds(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    with client_for(SUPERVISION, keys["justice"]) as http:
        bad = http.post("/v1/subscriptions", json={"url": "ftp://example.com/", "kinds": ["items"]})
        assert bad.status_code == 422
        staff_only = http.post(
            "/v1/subscriptions", json={"url": "https://example.com/", "kinds": ["alerts"]}
        )
        assert staff_only.status_code == 403
        for_another = http.post(
            "/v1/subscriptions",
            json={"url": "https://example.com/", "kinds": ["items"], "unit": "court"},
        )
        assert for_another.status_code == 403


def test_the_unit_s_live_feed_shows_its_refusal_and_no_other_unit_s(
    services_up: ServiceProcesses,
) -> None:
    unit = "street-nanyuanmen"
    key, other_key = create_key(unit, "department"), create_key("street-changlefang", "department")
    with client_for(SUPERVISION, other_key) as http:
        assert http.get(f"/v1/units/{unit}/stream").status_code == 404
    seen: list[dict[str, Any]] = []
    started = threading.Event()

    def follow() -> None:
        with (
            httpx.Client(base_url=SUPERVISION.url, timeout=httpx.Timeout(5, read=None)) as http,
            http.stream(
                "GET", f"/v1/units/{unit}/stream", headers={"authorization": f"Bearer {key}"}
            ) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("id:") or line.startswith(": heartbeat"):
                    started.set()
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert started.wait(20), "the feed never answered"
    refuse_an_event(other_key, "street-changlefang")
    refused = refuse_an_event(key, unit)
    reader.join(30)
    (shown,) = seen
    assert shown["type"] == "fazhi.receipt.refused"
    assert shown["data"]["event_id"] == refused["id"]
