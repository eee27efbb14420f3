"""Incidents end to end: the lifecycle to a closing assessment, the board, the public notice,
and the persons a report names, which only staff read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

EMERGENCY = SERVICES["emergency"]
UNIT = "emergency-management"


def post(http: httpx.Client, kind: str, incident_id: str, data: dict[str, Any]) -> None:
    body = event(f"emergency.{kind}", UNIT, incident_id, {"incident_id": incident_id, **data})
    response = http.post("/v1/events", **structured(body))
    assert response.status_code == 202, response.text


def now() -> str:
    return datetime.now(CST).isoformat()


def status_of(http: httpx.Client, incident_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_until(
        lambda: (
            (r := http.get(f"/v1/incidents/{incident_id}")).status_code == 200
            and r.json()["status"] == status
            and r.json()
        ),
        timeout=30,
        what=f"incident {incident_id} {status}",
    )
    return found


def test_an_incident_is_responded_to_closed_with_its_assessment_and_told_to_the_public(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    incident_id = f"I-{uuid.uuid4().hex[:10]}"
    with client_for(EMERGENCY, keys["emergency"]) as http:
        post(
            http,
            "incident.reported",
            incident_id,
            {
                "category": "自然灾害",
                "grade": "serious",
                "title": "暴雨引发内涝",
                "location": "碑林区长安路",
                "occurred_at": now(),
                "affected_persons": [{"name": "张三", "phone": "13991234567", "condition": "受伤"}],
            },
        )
        status_of(http, incident_id, "reported")
        board = http.get("/v1/incidents", params={"status": "reported", "limit": 500}).json()
        assert incident_id in [i["incident_id"] for i in board["items"]]
        post(
            http,
            "response.level_changed",
            incident_id,
            {
                "level": "II",
                "changed_at": now(),
                "scope": "长安路沿线",
                "expected_hours": 12,
                "measures": ["封闭积水路段"],
            },
        )
        responding = status_of(http, incident_id, "responding")
        assert responding["response"]["measures"] == ["封闭积水路段"]
        post(http, "response.ended", incident_id, {"ended_at": now()})
        status_of(http, incident_id, "recovering")
        post(
            http, "incident.closed", incident_id, {"closed_at": now(), "assessment": "张三已救治。"}
        )
        closed = status_of(http, incident_id, "closed")
        assert "张三" not in str(closed)
        assert closed["assessment"].endswith("已救治。")
        notice = http.get(f"/v1/notices/notice-incident-{incident_id}").json()
        assert notice["level"] == "serious"
        assert "张三" not in str(notice)
        assert "13991234567" not in str(notice)
        # The persons: staff only.
        assert http.get(f"/v1/incidents/{incident_id}/persons").status_code == 404
    with client_for(EMERGENCY, keys["staff"]) as staff:
        persons = staff.get(f"/v1/incidents/{incident_id}/persons").json()
        assert [p["name"] for p in persons["affected_persons"]] == ["张三"]
    with client_for(EMERGENCY, keys["supervisor"]) as supervisor:
        assert supervisor.get(f"/v1/incidents/{incident_id}/persons").status_code == 404
