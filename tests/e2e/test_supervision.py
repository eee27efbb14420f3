"""Supervision through HTTP only, against the running services: the plan's measures and their
overdue items, a trigger of another service found by its event id and pushed on the live
stream, and a worker killed in the middle of a burst of triggers losing and doubling nothing."""

from __future__ import annotations

import csv
import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.processes import (
    CST,
    SERVICES,
    ServiceProcesses,
    event,
    sample_value,
    structured,
    wait_until,
)

pytestmark = pytest.mark.e2e

SUPERVISION = SERVICES["supervision"]
EMERGENCY = SERVICES["emergency"]


def red_alert(alert_id: str, level: str = "red") -> dict[str, Any]:

    now = datetime.now(CST)
    return event(
        "emergency.alert.issued",
        "emergency-management",
        alert_id,
        {
            "alert_id": alert_id,
            "msg_type": "alert",
            "level": level,
            "category": "气象",
            "headline": "暴雨红色预警",
            "description": "未来3小时将出现100毫米以上降水",
            "area": "碑林区",
            "effective": now.isoformat(),
            "expires": (now + timedelta(hours=6)).isoformat(),
        },
    )


def finding(finding_id: str, unit: str = "audit") -> dict[str, Any]:

    return event(
        "supervision.finding.recorded",
        "gov-office",
        finding_id,
        {
            "finding_id": finding_id,
            "target_unit": unit,
            "title": "审计整改台账不完整",
            "level": "yellow",
            "due_date": (china_today() + timedelta(days=30)).isoformat(),
            "recorded_at": datetime.now(CST).isoformat(),
        },
    )


def china_today() -> date:
    """The platform's day (China time), which the machine's clock may not share."""
    return datetime.now(CST).date()


def all_items(http: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {**filters, "limit": 500}
    while True:
        page = http.get("/v1/items", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if body["next"] is None:
            return items
        params["cursor"] = body["next"]


class StreamReader:
    """An SSE client of `/v1/stream` in a thread: every event it receives, and its last id."""

    def __init__(self, key: str, last_event_id: str | None = None) -> None:
        self.key = key
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.started = threading.Event()
        self.stop = threading.Event()
        self.last_event_id = last_event_id
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StreamReader:
        self.thread.start()
        assert self.started.wait(20), "the stream never answered"
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(20)

    def _run(self) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        if self.last_event_id:
            headers["last-event-id"] = self.last_event_id
        with (
            httpx.Client(base_url=SUPERVISION.url, timeout=httpx.Timeout(5, read=None)) as http,
            http.stream("GET", "/v1/stream", headers=headers) as response,
        ):
            assert response.status_code == 200
            block: list[str] = []
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line:
                    block.append(line)
                    continue
                fields = dict(
                    part.split(": ", 1)
                    for part in block
                    if ": " in part and not part.startswith(":")
                )
                if "id" in fields:
                    self.ids.append(fields["id"])
                    self.started.set()
                if "data" in fields:
                    self.events.append(json.loads(fields["data"]))
                block = []

    def find(self, type_: str, **data: Any) -> dict[str, Any] | None:
        for e in self.events:
            if e["type"] == type_ and all(e["data"].get(k) == v for k, v in data.items()):
                return e
        return None


@pytest.fixture
def supervisor(services_up: ServiceProcesses, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with client_for(SUPERVISION, keys["supervisor"]) as http:
        yield http


def test_the_plan_lists_31_measures_each_overdue_with_an_open_item(
    supervisor: httpx.Client,
) -> None:
    def all_overdue() -> list[dict[str, Any]] | None:
        body = supervisor.get("/v1/tasks", params={"limit": 100}).json()
        measures = body["items"]
        return measures if len(measures) == 31 and all(m["overdue"] for m in measures) else None

    measures = wait_until(
        all_overdue, timeout=60, what="the watcher's catch-up marks every measure"
    )
    assert [m["measure_seq"] for m in measures] == list(range(1, 32))
    for measure in measures:
        assert measure["lead_units"]
        assert len(measure["lead_unit_names"]) == len(measure["lead_units"])
        assert measure["milestones"], measure["task_id"]
        end = next(m for m in measure["milestones"] if m["due_day"] == "2025-12-31")
        assert end["overdue"] is True
        assert end["days_overdue"] == (china_today() - date(2025, 12, 31)).days
    items = wait_until(
        lambda: (
            len(found := all_items(supervisor, kind="task_overdue", status="open")) >= 36 and found
        ),
        timeout=60,
        what="an open item for every overdue milestone",
    )
    by_id = {item["item_id"]: item for item in items}
    for measure in measures:
        for milestone in measure["milestones"]:
            item = by_id[milestone["item_id"]]
            assert (item["unit"], item["status"]) == (measure["unit"], "open")
    # Opened about a year late, each has climbed the whole ladder, one step at a time.
    item = wait_until(
        lambda: (
            (
                r := supervisor.get(f"/v1/items/{measures[17]['milestones'][0]['item_id']}").json()
            ).get("escalation")
            == "public_notice"
            and r
        ),
        timeout=60,
        what="the ladder's steps taken",
    )
    assert item["escalation_label_zh"] == "通报"
    assert [h["change"] for h in item["history"]] == ["opened", "escalated", "escalated"]
    chapter = supervisor.get("/v1/tasks", params={"chapter": "七", "overdue": "true"}).json()
    assert {m["measure"] for m in chapter["items"]} == {"十六", "十七", "十八", "十九"}


def test_a_red_alert_is_an_item_by_its_event_id_and_on_the_stream_within_2s(
    supervisor: httpx.Client, keys: dict[str, str]
) -> None:
    alert_id = f"A-{uuid.uuid4().hex[:8]}"
    trigger = red_alert(alert_id)
    with StreamReader(keys["supervisor"]) as stream:
        with client_for(EMERGENCY, keys["emergency"]) as http:
            assert http.post("/v1/events", **structured(trigger)).status_code == 202
        (item,) = wait_until(
            lambda: supervisor.get("/v1/items", params={"source_event_id": trigger["id"]}).json()[
                "items"
            ],
            timeout=2,
            interval=0.05,
            what="the alert's item, found by the alert's event id",
        )
        pushed = wait_until(
            lambda: stream.find("supervision.item.opened", item_id=f"alert-{alert_id}"),
            timeout=2,
            interval=0.05,
            what="the item pushed on /v1/stream",
        )
    assert (item["item_id"], item["kind"], item["level"], item["status"]) == (
        f"alert-{alert_id}",
        "alert",
        "red",
        "open",
    )
    assert pushed["data"]["source_event_id"] == trigger["id"]


def test_the_stream_resumes_after_the_last_event_id_and_needs_a_supervisor(
    supervisor: httpx.Client, keys: dict[str, str]
) -> None:
    with client_for(SUPERVISION, keys["justice"]) as http:
        assert http.get("/v1/stream").status_code == 403
    first, second = f"F-{uuid.uuid4().hex[:8]}", f"F-{uuid.uuid4().hex[:8]}"
    with StreamReader(keys["supervisor"]) as stream:
        assert supervisor.post("/v1/events", **structured(finding(first))).status_code == 202
        wait_until(
            lambda: stream.find("supervision.item.opened", item_id=f"finding-{first}"),
            timeout=30,
            what="the first finding's item on the stream",
        )
        resume_at = stream.ids[-1]
    assert supervisor.post("/v1/events", **structured(finding(second))).status_code == 202
    with StreamReader(keys["supervisor"], last_event_id=resume_at) as resumed:
        wait_until(
            lambda: resumed.find("supervision.item.opened", item_id=f"finding-{second}"),
            timeout=30,
            what="the item opened while away, after resuming",
        )
    assert resumed.find("supervision.item.opened", item_id=f"finding-{first}") is None


def test_a_unit_rectifies_and_a_supervisor_accepts(
    supervisor: httpx.Client, keys: dict[str, str]
) -> None:

    finding_id = f"F-{uuid.uuid4().hex[:8]}"
    item_id = f"finding-{finding_id}"
    assert (
        supervisor.post("/v1/events", **structured(finding(finding_id, "justice"))).status_code
        == 202
    )
    wait_until(
        lambda: supervisor.get(f"/v1/items/{item_id}").status_code == 200,
        timeout=30,
        what="the finding's item",
    )
    now = datetime.now(CST).isoformat()
    rectified = event(
        "supervision.item.rectified",
        "justice",
        item_id,
        {"item_id": item_id, "unit": "justice", "rectified_at": now, "note": "已建立整改台账"},
    )
    with client_for(SUPERVISION, keys["justice"]) as unit:
        assert unit.post("/v1/events", **structured(rectified)).status_code == 202
        accepted = event(
            "supervision.item.accepted",
            "justice",
            item_id,
            {"item_id": item_id, "accepted_at": now},
        )
        assert (
            unit.post("/v1/events", **structured(accepted)).status_code == 403
        )  # not a supervisor
        own = all_items(unit, kind="inspection_finding")
        assert item_id in {i["item_id"] for i in own}
        assert {i["unit"] for i in own} == {"justice"}  # a department lists its own unit's
    wait_until(
        lambda: supervisor.get(f"/v1/items/{item_id}").json()["status"] == "rectifying",
        timeout=30,
        what="rectifying",
    )
    accepted = event(
        "supervision.item.accepted", "gov-office", item_id, {"item_id": item_id, "accepted_at": now}
    )
    assert supervisor.post("/v1/events", **structured(accepted)).status_code == 202
    item = wait_until(
        lambda: (r := supervisor.get(f"/v1/items/{item_id}").json())["status"] == "closed" and r,
        timeout=30,
        what="closed",
    )
    assert [h["change"] for h in item["history"]] == ["opened", "rectified", "closed"]


def test_killing_the_worker_during_a_burst_of_1000_triggers_loses_and_doubles_no_item(
    services_up: ServiceProcesses, supervisor: httpx.Client, keys: dict[str, str]
) -> None:
    run = uuid.uuid4().hex[:6]
    alerts = [red_alert(f"B{run}-{i}", "orange" if i % 2 else "red") for i in range(500)]
    findings = [finding(f"B{run}-{i}", "statistics") for i in range(500)]
    mixed = [e for pair in zip(alerts, findings, strict=True) for e in pair]
    batch = {"headers": {"content-type": "application/cloudevents-batch+json"}}
    with client_for(EMERGENCY, keys["emergency"]) as emergency:
        for start in range(0, len(mixed), 50):
            chunk = mixed[start : start + 50]
            to_emergency = [e for e in chunk if e["type"].startswith("emergency.")]
            to_supervision = [e for e in chunk if e["type"].startswith("supervision.")]
            for http, events in ((emergency, to_emergency), (supervisor, to_supervision)):
                body = json.dumps(events, ensure_ascii=False).encode()
                assert http.post("/v1/events", content=body, **batch).status_code == 202
            if start == 300:
                services_up.kill_worker(SUPERVISION)
    services_up.start_worker(SUPERVISION)
    services_up.wait_ready(
        f"{SUPERVISION.name}-worker", f"{SUPERVISION.worker_url}/metrics", what="worker back"
    )
    expected = {e["id"] for e in mixed}

    def ours() -> list[dict[str, Any]]:
        return [
            item
            for kind in ("alert", "inspection_finding")
            for item in all_items(supervisor, kind=kind)
            if set(item["source_event_ids"]) & expected
        ]

    items = wait_until(
        lambda: len(found := ours()) >= 1000 and found, timeout=180, what="1,000 items"
    )
    assert len(items) == 1000
    assert len({item["item_id"] for item in items}) == 1000
    sources = [s for item in items for s in item["source_event_ids"]]
    assert sorted(sources) == sorted(expected)  # each trigger in exactly one item, once


def test_exports_the_annual_report_and_the_metrics_follow_the_data(
    supervisor: httpx.Client, keys: dict[str, str]
) -> None:
    wait_until(
        lambda: len(all_items(supervisor, kind="task_overdue")) >= 36,
        timeout=60,
        what="the plan's items",
    )
    tasks_csv = supervisor.get("/v1/tasks.csv")
    assert tasks_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(tasks_csv.text.removeprefix("\ufeff"))))
    assert len([r for r in rows if r["kind"] == "measure"]) == 31
    assert {r["overdue"] for r in rows if r["kind"] == "measure"} == {"是"}
    items_csv = supervisor.get("/v1/items.csv", params={"kind": "task_overdue"})
    listed = list(csv.DictReader(io.StringIO(items_csv.text.removeprefix("\ufeff"))))
    assert len(listed) == len(all_items(supervisor, kind="task_overdue"))
    assert supervisor.get("/v1/items.csv", params={"kidn": "alert"}).status_code == 422

    year = china_today().year
    markdown = supervisor.get(f"/v1/reports/annual/{year}", params={"format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# 碑林区{year}年法治政府建设年度报告（草稿）")
    assert "逾期未完成31项" in markdown.text
    page = supervisor.get(f"/v1/reports/annual/{year}")
    assert page.headers["content-type"].startswith("text/html")
    assert "<h2>三、督查督办</h2>" in page.text
    with client_for(SUPERVISION, keys["justice"]) as unit:
        assert unit.get(f"/v1/reports/annual/{year}").status_code == 403

    def api_metrics() -> str | None:
        text = httpx.get(f"{SUPERVISION.url}/metrics").text
        return text if 'supervision_open_items{kind="task_overdue"' in text else None

    text = wait_until(api_metrics, timeout=30, what="the api's gauges refreshed")
    assert sample_value(text, "supervision_overdue_tasks", unit="justice") >= 1
    # The worker's own histogram (it counts the items this process opened, of any kind).
    worker = httpx.get(f"{SUPERVISION.worker_url}/metrics").text
    assert sample_value(worker, "supervision_trigger_to_item_seconds_count") >= 1
