"""Contract tests: schemathesis against each running service's `/openapi.json` (zero 5xx).

Every operation of the four apis is fuzzed over HTTP (schemathesis' coverage and fuzzing
phases, positive and negative data), once with an operator key and once without a key. No
response may be a server error, each must conform to the declared status codes, content
types, headers and response schemas, and requests that break the schema must be refused (4xx). Random data hardly ever gets past the domain rules, so a
last test sends one valid request per write operation, for the success responses.

Generation is deterministic (Hypothesis `derandomize`, a fixed seed) and bounded for two cores.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.support.processes import CST, SERVICES, ServiceProcesses, event, progress

pytestmark = pytest.mark.e2e

# Operator PUTs store schedules in the calendar every service shares: keep them to a year
# nothing else reads.
CONTRACT_YEAR = 2099
# Operations that answer without a key (and those marked `x-fazhi-public`: the portal's data);
# every other one must refuse an anonymous request.
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/readyz/read"), ("GET", "/v1/units")}
# OPTIONS tells anyone which methods a path allows (204 with `Allow`).
METADATA = {"OPTIONS"}
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# Lists in cursor pages (`fazhi.web.pagination`).
PAGED = (
    "/v1/tasks",
    "/v1/items",
    "/v1/items.csv",
    "/v1/publications",
    "/v1/search",
    "/v1/alerts",
    "/v1/incidents",
    "/v1/supplies",
    "/v1/cases",
    "/v1/subscriptions",
    "/v1/subscriptions/{sub_id}/deliveries",
)

# Every built-in check runs (the `--checks all` of the command line): `validate_response`
# without `checks` runs each check the configuration enables, and none is disabled here.
CHECKS = None


def _load(name: str, *, max_examples: int) -> OpenApiSchema:
    """The OpenAPI document the running service serves, with the generation settings."""
    service = SERVICES[name]
    config = SchemathesisConfig.from_dict(
        {
            "base-url": service.url,
            "seed": 20260501,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "request-timeout": 30,
            "parameters": {"path.year": CONTRACT_YEAR},
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            # Valid per the schema, refused by rules JSON Schema cannot state (422): an event's
            # subject is the aggregate id in its data and data.unit its source's unit, an
            # alert expires after it takes effect; a schedule's dates lie in the path's year.
            # A list's cursor is opaque: one the api did not give is a 400.
            "operations": [
                {
                    "include-path": path,
                    "include-method": method,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*POSITIVE_STATUSES, status]
                        }
                    },
                }
                for method, path, status in (
                    ("POST", "/v1/events", "422"),
                    ("PUT", "/v1/calendar/{year}", "422"),
                    *(("GET", path, "400") for path in PAGED),
                )
            ],
        }
    )
    return schemathesis.openapi.from_url(f"{service.url}/openapi.json", config=config, timeout=10)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=sorted(SERVICES))
def operator_schema(request: pytest.FixtureRequest, services_up: ServiceProcesses) -> OpenApiSchema:
    # Examples per operation, sized so the suite keeps its time budget as operations are added.
    return _load(request.param, max_examples=6)


@pytest.fixture(scope="module", params=sorted(SERVICES))
def anonymous_schema(
    request: pytest.FixtureRequest, services_up: ServiceProcesses
) -> OpenApiSchema:
    return _load(request.param, max_examples=3)


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's `from_fixture` tests read and write `Item._nodeid`, which pytest 9.2
    # no longer has (node ids are `Item._id` now); give it the attribute back.
    request.node._nodeid = request.node.nodeid


operator = schemathesis.pytest.from_fixture("operator_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_schema")


def _call_and_validate(case: Case[Any], headers: dict[str, str] | None = None) -> Response:
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    return response


@operator.parametrize()
def test_operator_requests_conform(case: Case[Any], keys: dict[str, str]) -> None:
    _call_and_validate(case, _bearer(keys["operator"]))


@anonymous.parametrize()
def test_anonymous_requests_conform(case: Case[Any]) -> None:
    response = _call_and_validate(case)
    method = response.request.method or case.method.upper()
    public = (case.method.upper(), case.path) in PUBLIC or case.operation.definition.raw.get(
        "x-fazhi-public"
    )
    if not public and method not in METADATA:
        assert not 200 <= response.status_code < 300, (
            f"{case.method.upper()} {case.path} answered {response.status_code} without a key"
        )


def _valid_event(name: str) -> dict[str, Any]:
    """An event the service accepts (new ids, so no projection another test reads is touched)."""
    ident = uuid.uuid4().hex[:8]
    now = datetime.now(CST).isoformat()
    applicant = {"name": "张三", "id_number": "610103198503021234", "phone": "13991234567"}
    if name == "supervision":
        return progress("justice", f"T-contract-{ident}", 30)
    if name == "petition-mediation":
        data: dict[str, Any] = {
            "case_id": f"C-contract-{ident}",
            "case_type": "reconsideration",
            "category": "行政处罚",
            "applicant": applicant,
            "respondent_unit": "market-regulation",
            "summary": "申请人不服区市场监管局行政处罚决定",
            "filed_at": now,
        }
        return event("mediation.case.filed", "justice", data["case_id"], data)
    if name == "emergency":
        data = {
            "incident_id": f"I-contract-{ident}",
            "category": "自然灾害",
            "grade": "relatively_serious",
            "title": "暴雨引发内涝",
            "location": "碑林区长安路",
            "occurred_at": now,
        }
        return event("emergency.incident.reported", "justice", data["incident_id"], data)
    data = {
        "request_id": f"R-contract-{ident}",
        "applicant": applicant,
        "content": "申请公开2026年度重大行政决策事项目录",
        "channel": "online",
        "received_at": now,
    }
    return event("opengov.request.received", "justice", data["request_id"], data)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_success_responses_conform(
    services_up: ServiceProcesses, keys: dict[str, str], name: str
) -> None:
    schema = _load(name, max_examples=1)
    headers = _bearer(keys["operator"])

    def expect(case: Case[Any], status: int) -> Response:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code == status, response.text
        return response

    events = schema["/v1/events"]["POST"]
    one = _valid_event(name)
    accepted = expect(events.Case(body=one, media_type="application/cloudevents+json"), 202)
    assert accepted.json()["accepted"] == [one["id"]]
    assert [r["id"] for r in accepted.json()["receipts"]] == [one["id"]]
    batch: list[Any] = [_valid_event(name), _valid_event(name)]
    expect(events.Case(body=batch, media_type="application/cloudevents-batch+json"), 202)

    calendar = schema["/v1/calendar/{year}"]
    year = {"year": CONTRACT_YEAR}
    schedule: dict[str, Any] = {
        "holidays": [f"{CONTRACT_YEAR}-10-0{d}" for d in range(1, 8)],
        "workdays": [f"{CONTRACT_YEAR}-09-26"],
        "note": "contract test",
    }
    expect(calendar["PUT"].Case(path_parameters=year, body=schedule), 200)
    assert expect(calendar["GET"].Case(path_parameters=year), 200).json()["source"] == "override"
    expect(calendar["DELETE"].Case(path_parameters=year), 200)
