"""Reads are scoped by unit, through the running services: a department reads what its unit owns
or is party to, staff read emergency data, supervisors and operators read all, and any other
key gets the 404 an unknown id gets. What is read is redacted."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import client_for, create_key
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

NOW = datetime.now(CST).replace(microsecond=0)
ADDRESS = "西安市碑林区东关南街88号"
APPLICANT = {"name": "王五", "id_number": "610103198503021234", "phone": "13991234567"}


@pytest.fixture(scope="module")
def unit_keys(keys: dict[str, str]) -> dict[str, str]:
    """The session's keys, and departments that own nothing here unless named in it."""
    return {
        **keys,
        "court": create_key("court", "department"),
        "street": create_key("street-baishulin", "department"),
        "market": create_key("market-regulation", "department"),
    }


def _post(service: str, key: str, posted: dict[str, Any]) -> None:
    with client_for(SERVICES[service], key) as http:
        response = http.post("/v1/events", **structured(posted))
    assert response.status_code == 202, response.text


def _status(service: str, key: str, path: str) -> int:
    with client_for(SERVICES[service], key) as http:
        return http.get(path).status_code


def _projected(service: str, key: str, path: str) -> dict[str, Any]:
    with client_for(SERVICES[service], key) as http:
        doc: dict[str, Any] = wait_until(
            lambda: (r := http.get(path)).status_code == 200 and r.json(),
            timeout=60,
            what=f"{path} projected",
        )
    return doc


def _same_as_unknown(service: str, key: str, path: str) -> None:
    """The answer to `key` for `path` is, byte for byte but the id, that of an unknown id."""
    unknown_id = f"NONE-{uuid.uuid4().hex[:8]}"
    known_id = path.rsplit("/", 1)[1]
    with client_for(SERVICES[service], key) as http:
        hidden = http.get(path)
        unknown = http.get(path.replace(known_id, unknown_id))
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.headers["content-type"] == unknown.headers["content-type"]
    assert hidden.text == unknown.text.replace(unknown_id, known_id)


def test_a_case_is_read_by_its_filing_and_respondent_units_and_supervisors_only(
    services_up: ServiceProcesses, unit_keys: dict[str, str]
) -> None:
    case = f"C-{uuid.uuid4().hex[:8]}"
    _post(
        "petition-mediation",
        unit_keys["justice"],
        event(
            "mediation.case.filed",
            "justice",
            case,
            {
                "case_id": case,
                "case_type": "reconsideration",
                "category": "王五不服行政处罚（电话138.0013.8000）",
                "applicant": {**APPLICANT, "address": ADDRESS},
                "respondent_unit": "market-regulation",
                "summary": f"申请人王五，住{ADDRESS}，电话１３９\u200b９１２３\u200b４５６７，不服处罚",
                "filed_at": NOW.isoformat(),
            },
        ),
    )
    path = f"/v1/cases/{case}"
    doc = _projected("petition-mediation", unit_keys["justice"], path)
    body = json.dumps(doc, ensure_ascii=False)
    for secret in ("王五", "138.0013.8000", "13991234567", "９１２３", ADDRESS, "东关南街88号"):
        assert secret not in body
    assert doc["summary"] == "申请人王某，住[地址已隐去]，电话[电话已隐去]，不服处罚"
    for key in ("market", "supervisor", "operator"):
        assert _status("petition-mediation", unit_keys[key], path) == 200, key
    for key in ("court", "street", "staff", "emergency"):
        _same_as_unknown("petition-mediation", unit_keys[key], path)


def test_staff_read_alerts_and_incidents_a_department_only_its_own(
    services_up: ServiceProcesses, unit_keys: dict[str, str]
) -> None:
    alert, incident = f"A-{uuid.uuid4().hex[:8]}", f"I-{uuid.uuid4().hex[:8]}"
    unit = "emergency-management"
    _post(
        "emergency",
        unit_keys["emergency"],
        event(
            "emergency.alert.issued",
            unit,
            alert,
            {
                "alert_id": alert,
                "msg_type": "alert",
                "level": "yellow",
                "category": "气象",
                "headline": "大风黄色预警",
                "description": "未来6小时有8级大风",
                "area": "碑林区",
                "effective": NOW.isoformat(),
                "expires": (NOW + timedelta(hours=6)).isoformat(),
            },
        ),
    )
    _post(
        "emergency",
        unit_keys["emergency"],
        event(
            "emergency.incident.reported",
            unit,
            incident,
            {
                "incident_id": incident,
                "category": "事故灾难",
                "grade": "general",
                "title": "当事人李四称家中燃气泄漏",
                "location": "长安路1号（报警人电话139-9123-4567）",
                "occurred_at": NOW.isoformat(),
            },
        ),
    )
    for path in (f"/v1/alerts/{alert}", f"/v1/incidents/{incident}"):
        doc = _projected("emergency", unit_keys["staff"], path)
        assert "private" not in doc
        for key in ("emergency", "supervisor", "operator"):
            assert _status("emergency", unit_keys[key], path) == 200, key
        for key in ("justice", "court", "street"):
            _same_as_unknown("emergency", unit_keys[key], path)
    incident_doc = _projected("emergency", unit_keys["staff"], f"/v1/incidents/{incident}")
    assert incident_doc["title"] == "当事人李某称家中燃气泄漏"
    assert incident_doc["location"] == "长安路1号（报警人电话[电话已隐去]）"


def test_a_department_reads_its_own_tasks_and_requests_and_every_published_document(
    services_up: ServiceProcesses, unit_keys: dict[str, str]
) -> None:
    task, request = f"T-{uuid.uuid4().hex[:8]}", f"R-{uuid.uuid4().hex[:8]}"
    _post(
        "supervision",
        unit_keys["justice"],
        event(
            "supervision.task.progress_reported",
            "justice",
            task,
            {
                "task_id": task,
                "unit": "justice",
                "progress_pct": 30,
                "note": "联系人李四，电话138 0013 8000",
                "reported_at": NOW.isoformat(),
            },
        ),
    )
    _post(
        "open-government",
        unit_keys["justice"],
        event(
            "opengov.request.received",
            "justice",
            request,
            {
                "request_id": request,
                "applicant": APPLICANT,
                "content": "申请公开行政复议案件统计",
                "channel": "online",
                "received_at": NOW.isoformat(),
            },
        ),
    )
    task_doc = _projected("supervision", unit_keys["justice"], f"/v1/tasks/{task}")
    assert task_doc["history"][0]["note"] == "联系人李某，电话[电话已隐去]"
    _projected("open-government", unit_keys["justice"], f"/v1/requests/{request}")
    for key in ("court", "street", "staff"):
        _same_as_unknown("supervision", unit_keys[key], f"/v1/tasks/{task}")
        _same_as_unknown("open-government", unit_keys[key], f"/v1/requests/{request}")
    assert _status("supervision", unit_keys["supervisor"], f"/v1/tasks/{task}") == 200
    assert _status("open-government", unit_keys["operator"], f"/v1/requests/{request}") == 200
    # A plan task is read by its lead and responsible units (M18-T1: the justice bureau leads,
    # every district department, the court among them, is responsible; streets are not).
    assert _status("supervision", unit_keys["justice"], "/v1/tasks/M18-T1") == 200
    assert _status("supervision", unit_keys["court"], "/v1/tasks/M18-T1") == 200
    _same_as_unknown("supervision", unit_keys["street"], "/v1/tasks/M18-T1")


def test_a_published_document_is_read_with_any_key(
    services_up: ServiceProcesses, unit_keys: dict[str, str]
) -> None:
    document = f"D-{uuid.uuid4().hex[:8]}"
    _post(
        "open-government",
        unit_keys["justice"],
        event(
            "opengov.document.published",
            "justice",
            document,
            {
                "document_id": document,
                "doc_kind": "normative",
                "title": "碑林区行政执法公示办法",
                "issuing_unit": "justice",
                "body": "第一条 为规范行政执法公示……",
                "published_at": NOW.isoformat(),
            },
        ),
    )
    _projected("open-government", unit_keys["court"], f"/v1/documents/{document}")
    with httpx.Client(base_url=SERVICES["open-government"].url, timeout=10) as http:
        assert http.get(f"/v1/documents/{document}").status_code == 401
