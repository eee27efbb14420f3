"""Black-box HTTP against the four running services: health, units, events in, documents out."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.kafka import end_offsets, read_topic
from tests.support.processes import (
    AUTH_DB,
    CST,
    ROOT,
    SERVICES,
    ServiceProcesses,
    event,
    log_tail,
    progress,
    sample_value,
    structured,
    wait_until,
)

pytestmark = pytest.mark.e2e

NOW = datetime.now(CST)


def _applicant() -> dict[str, Any]:
    return {"name": "张三", "id_number": "610103198503021234", "phone": "13991234567"}


def sample(service: str, unit: str) -> tuple[dict[str, Any], str]:
    """A representative event each service owns, and the path where its projection is read."""
    ident = uuid.uuid4().hex[:8]
    if service == "supervision":
        return progress(unit, f"T-{ident}", 55), f"/v1/tasks/T-{ident}"
    if service == "petition-mediation":
        data = {
            "case_id": f"C-{ident}",
            "case_type": "reconsideration",
            "category": "行政处罚",
            "applicant": _applicant(),
            "respondent_unit": "market-regulation",
            "summary": "申请人不服区市场监管局行政处罚决定",
            "filed_at": NOW.isoformat(),
        }
        return event("mediation.case.filed", unit, f"C-{ident}", data), f"/v1/cases/C-{ident}"
    if service == "emergency":
        data = {
            "incident_id": f"I-{ident}",
            "category": "自然灾害",
            "grade": "relatively_serious",
            "title": "暴雨引发内涝",
            "location": "碑林区长安路",
            "occurred_at": NOW.isoformat(),
        }
        return event(
            "emergency.incident.reported", unit, f"I-{ident}", data
        ), f"/v1/incidents/I-{ident}"
    data = {
        "request_id": f"R-{ident}",
        "applicant": _applicant(),
        "content": "申请公开2026年度重大行政决策事项目录",
        "channel": "online",
        "received_at": NOW.isoformat(),
    }
    return event("opengov.request.received", unit, f"R-{ident}", data), f"/v1/requests/R-{ident}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_healthy_ready_and_documents_itself(
    services_up: ServiceProcesses, name: str
) -> None:
    service = SERVICES[name]
    with httpx.Client(base_url=service.url, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        checks = ready.json()["checks"]
        assert {k: checks[k] for k in ("kafka", "mongodb")} == {"kafka": "ok", "mongodb": "ok"}
        assert set(checks.values()) == {"ok"}  # and the api's own parts (a search index)
        units = http.get("/v1/units").json()
        assert {"code": "justice", "name": "区司法局"} in [
            {"code": u["code"], "name": u["name"]} for u in units["units"]
        ]
        assert any(g["members"] for g in units["groups"])
        spec = http.get("/openapi.json").json()
        assert "/v1/events" in spec["paths"]
        assert (
            "application/cloudevents+json"
            in spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]
        )


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_projects_its_event_and_never_serves_personal_data(
    services_up: ServiceProcesses, keys: dict[str, str], name: str
) -> None:
    service = SERVICES[name]
    posted, path = sample(name, "justice")
    with client_for(service, keys["justice"]) as http:
        accepted = http.post("/v1/events", **structured(posted))
        assert accepted.status_code == 202, accepted.text
        doc = wait_until(
            lambda: (r := http.get(path)).status_code == 200 and r.json(),
            timeout=60,
            what=f"{path} readable",
        )
        assert http.get(path, headers={"authorization": "Bearer wrong"}).status_code == 401
    body = json.dumps(doc, ensure_ascii=False)
    for secret in ("张三", "610103198503021234", "13991234567", "_applied"):
        assert secret not in body


def test_metrics_show_ingest_on_the_api_and_consumption_on_the_worker(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    service = SERVICES["supervision"]
    kind = "supervision.task.progress_reported"

    def api_metrics() -> str:
        return httpx.get(f"{service.url}/metrics", timeout=10).text

    def worker_metrics() -> str:
        return httpx.get(f"{service.worker_url}/metrics", timeout=10).text

    def accepted() -> float:
        return sample_value(
            api_metrics(), "supervision_events_ingested_total", outcome="accepted", type=kind
        )

    def applied() -> float:
        return sample_value(
            worker_metrics(),
            "supervision_events_consumed_total",
            outcome="applied",
            topic=service.topic,
            type=kind,
        )

    accepted_before, applied_before = accepted(), applied()
    task_id = f"T-{uuid.uuid4().hex[:8]}"
    posted = progress("justice", task_id, 5)
    with client_for(service, keys["justice"]) as http:
        assert http.post("/v1/events", **structured(posted)).status_code == 202
        assert accepted() == accepted_before + 1
        wait_until(
            lambda: http.get(f"/v1/tasks/{task_id}").status_code == 200,
            timeout=60,
            what="event projected",
        )
    wait_until(
        lambda: applied() >= applied_before + 1,
        timeout=30,
        what=f"worker applied counter above {applied_before}",
    )

    text = wait_until(
        lambda: "supervision_events_tailed_total{" in (m := api_metrics()) and m,
        timeout=60,
        what="api tail metrics",
    )
    assert "supervision_ingest_seconds_bucket" in text
    wait_until(
        lambda: f'supervision_consumer_lag{{group="{service.worker_group}"' in api_metrics(),
        timeout=60,
        what="consumer lag gauge",
    )


def test_only_staff_acknowledge_alerts(services_up: ServiceProcesses, keys: dict[str, str]) -> None:
    service = SERVICES["emergency"]
    alert_id = f"A-{uuid.uuid4().hex[:8]}"
    issued = event(
        "emergency.alert.issued",
        "emergency-management",
        alert_id,
        {
            "alert_id": alert_id,
            "msg_type": "alert",
            "level": "orange",
            "category": "气象",
            "headline": "暴雨橙色预警",
            "description": "未来3小时将出现50毫米以上降水",
            "area": "碑林区",
            "effective": NOW.isoformat(),
            "expires": (NOW + timedelta(hours=6)).isoformat(),
            "instruction": "停止户外作业",
        },
    )
    ack = event(
        "emergency.alert.acknowledged",
        "emergency-management",
        alert_id,
        {"alert_id": alert_id, "staff_id": "staff-007", "acknowledged_at": NOW.isoformat()},
    )
    with client_for(service, keys["emergency"]) as http:
        assert http.post("/v1/events", **structured(issued)).status_code == 202
        assert http.post("/v1/events", **structured(ack)).status_code == 403
    with client_for(service, keys["staff"]) as http:
        assert http.post("/v1/events", **structured(ack)).status_code == 202
        doc = wait_until(
            lambda: (
                (r := http.get(f"/v1/alerts/{alert_id}")).status_code == 200
                and r.json().get("acknowledgements")
                and r.json()
            ),
            timeout=60,
            what="ack projected",
        )
    assert doc["status"] == "active"
    assert [a["staff_id"] for a in doc["acknowledgements"]] == ["staff-007"]


async def test_statutory_terms_are_taken_published_and_stored_as_codes_and_answered_with_labels(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    service = SERVICES["emergency"]
    incident_id = f"I-{uuid.uuid4().hex[:8]}"
    data = {
        "incident_id": incident_id,
        "category": "自然灾害",
        "grade": "较大",
        "title": "暴雨引发内涝",
        "location": "碑林区长安路",
        "occurred_at": NOW.isoformat(),
    }
    reported = event("emergency.incident.reported", "emergency-management", incident_id, data)
    level = event(
        "emergency.response.level_changed",
        "emergency-management",
        incident_id,
        {"incident_id": incident_id, "level": "Ⅱ级", "changed_at": NOW.isoformat()},
    )
    unknown = event(
        "emergency.incident.reported",
        "emergency-management",
        incident_id,
        {**data, "grade": "很大"},
    )
    before = await end_offsets(service.topic)
    with client_for(service, keys["emergency"]) as http:
        refused = http.post("/v1/events", **structured(unknown))
        assert http.post("/v1/events", **structured(reported)).status_code == 202
        assert http.post("/v1/events", **structured(level)).status_code == 202
        doc = wait_until(
            lambda: (
                (r := http.get(f"/v1/incidents/{incident_id}")).status_code == 200
                and r.json().get("level_history")
                and r.json()
            ),
            timeout=60,
            what="incident and its level projected",
        )
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "data.grade"
    assert "relatively_serious (较大)" in error["message"]

    assert (doc["grade"], doc["grade_label_zh"]) == ("relatively_serious", "较大")
    assert (doc["response_level"], doc["response_level_label_zh"]) == ("II", "二级")
    assert [(row["level"], row["level_label_zh"]) for row in doc["level_history"]] == [
        ("II", "二级")
    ]
    published = [
        json.loads(r.value)["data"]
        for r in await read_topic(service.topic, since=before)
        if r.key == incident_id.encode()
    ]
    assert [(d.get("grade"), d.get("level")) for d in published] == [
        ("relatively_serious", None),
        (None, "II"),
    ]


def test_demo_keys_are_written_for_every_unit_and_kept_on_the_next_run(
    services_up: ServiceProcesses, tmp_path: Path
) -> None:
    out = tmp_path / "demo-keys.json"
    argv = [
        sys.executable,
        "-m",
        "fazhi.cli",
        "--auth-db",
        AUTH_DB,
        "keys",
        "demo",
        "--out",
        str(out),
    ]
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    first = json.loads(out.read_text())
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    assert json.loads(out.read_text()) == first
    units = httpx.get(f"{SERVICES['supervision'].url}/v1/units").json()["units"]
    assert set(first["units"]) == {u["code"] for u in units}
    posted = progress("audit", f"T-{uuid.uuid4().hex[:8]}")
    with client_for(SERVICES["supervision"], first["units"]["audit"]) as http:
        assert http.post("/v1/events", **structured(posted)).status_code == 202
    with client_for(SERVICES["supervision"], first["operator"]) as http:
        assert http.post("/v1/events", **structured(progress("justice", "T-op"))).status_code == 202
    whoami = {
        name: httpx.get(
            f"{SERVICES['emergency'].url}/v1/whoami",
            headers={"authorization": f"Bearer {key}"},
        ).json()
        for name, key in [
            *((f"unit:{code}", key) for code, key in first["units"].items()),
            *((role, held["key"]) for role, held in first["roles"].items()),
        ]
    }
    assert {name: who["roles"] for name, who in whoami.items() if name.startswith("unit:")} == {
        f"unit:{code}": ["department"] for code in first["units"]
    }
    assert whoami["staff"] == {
        **whoami["staff"],
        "unit": "emergency-management",
        "roles": ["staff"],
    }
    assert whoami["supervisor"]["roles"] == ["supervisor"]


def test_supervision_loads_the_plan_catalogue_as_tasks(
    services_up: ServiceProcesses, keys: dict[str, str]
) -> None:
    with client_for(SERVICES["supervision"], keys["supervisor"]) as http:
        milestone = http.get("/v1/tasks/M10-D1").json()
        task = http.get("/v1/tasks/M18-T1").json()
    assert milestone["kind"] == "milestone"
    assert milestone["due_at"].startswith("2023-12-31T23:59:59+08:00")
    assert "两法衔接" in milestone["summary"]
    assert task["measure"] == "十八"
    assert "justice" in task["lead_units"]


def test_every_worker_is_alive_ready_and_one_replica_leads(services_up: ServiceProcesses) -> None:
    """The probes Kubernetes and compose use, and what the timers-leader alert reads."""
    for service in SERVICES.values():
        assert httpx.get(f"{service.worker_url}/livez", timeout=10).status_code == 200
        ready = httpx.get(f"{service.worker_url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"agent": "consuming", "mongodb": "ok"}
        wait_until(
            lambda service=service: (
                sample_value(
                    httpx.get(f"{service.worker_url}/metrics", timeout=10).text,
                    f"{service.package}_worker_leader",
                )
                == 1
            ),
            timeout=60,
            what=f"{service.name}'s only worker leads its group",
        )
        assert httpx.get(f"{service.url}/readyz/read", timeout=10).json()["checks"] == {
            "mongodb": "ok"
        }


def test_the_workers_write_no_terminal_escape_codes_into_a_log(
    services_up: ServiceProcesses,
) -> None:
    """A worker's stdout here is a log file, as under `make run` and in a container: faust's
    start-up spinner (cursor escape codes and backspaces) stays off, the log is plain text;
    for the side workers (supervision's deliveries) as for each service's worker."""
    for service in SERVICES.values():
        assert httpx.get(f"{service.worker_url}/readyz", timeout=10).status_code == 200
        logs = [f"{service.name}-worker"]
        for side in service.side_workers:
            assert httpx.get(f"{service.side_url(side)}/metrics", timeout=10).status_code == 200
            logs.append(f"{service.name}-{side.name}")
        for name in logs:
            started = log_tail(name, lines=100_000)
            assert started != "(no log)", name
            assert "\x1b" not in started, f"{name}: {started[-500:]!r}"
            assert "\b" not in started, f"{name}: {started[-500:]!r}"
