"""`POST /v1/events` reports every refused entry; `Allow` and the OpenAPI schema tell the truth;
requests uvicorn cannot parse get a problem too."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema_rs
import pytest

from fazhi.contracts.envelope import BATCH, STRUCTURED
from fazhi.web.auth import Principal, Role
from fazhi.web.cloudevents import read_http
from fazhi.web.ingest import check_events
from fazhi.web.problems import Problem
from supervision.api import create_app
from supervision.events import CATALOG
from tests.support.samples import catalogs, sample

JUSTICE = Principal(key_id="k1", unit="justice", roles=frozenset({Role.DEPARTMENT}))


def event(**changes: Any) -> dict[str, Any]:
    body = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/units/justice",
        "type": "supervision.task.progress_reported",
        "subject": "M18-T1",
        "time": "2026-11-27T10:00:00+08:00",
        "data": sample("supervision.task.progress_reported", "M18-T1"),
    }
    return {**body, **changes}


def refusal(*events: dict[str, Any], batch: bool = True) -> Problem:
    body = json.dumps(list(events) if batch else events[0]).encode()
    parsed = read_http(BATCH if batch else STRUCTURED, {}, body)
    with pytest.raises(Problem) as refused:
        check_events(parsed, CATALOG, JUSTICE)
    return refused.value


def test_a_batch_names_every_bad_entry_in_order() -> None:
    problem = refusal(
        event(),
        event(id="e-2", time=12345),
        event(id="e-3", data={**event()["data"], "progress_pct": "60"}),
        event(id="e-4", subject="M18-T2"),
        event(id="e-5", Bad=1),
    )
    assert problem.status == 422
    fields = [e["field"] for e in problem.extensions["errors"]]
    assert fields == ["[1].time", "[2].data.progress_pct", "[3].subject", "[4].Bad"]


def test_a_batch_with_a_forbidden_entry_is_403_and_still_names_the_others() -> None:
    problem = refusal(
        event(time="yesterday"),
        event(id="e-2", source="/units/audit"),
        event(id="e-3", type="supervision.task.overdue"),
    )
    assert problem.status == 403
    assert problem.kind == "forbidden-source"
    fields = [e["field"] for e in problem.extensions["errors"]]
    assert fields == ["[0].time", "[1].source", "[2].type"]
    assert "3 of the 3 events are refused ([0], [1], [2])" in problem.detail


def test_one_event_keeps_its_own_problem() -> None:
    assert refusal(event(type="x.y"), batch=False).status == 400
    invalid = refusal(event(time=1, data={**event()["data"], "progress_pct": 1.0}), batch=False)
    assert invalid.status == 422
    assert [e["field"] for e in invalid.extensions["errors"]] == ["time"]
    data_only = refusal(event(data={**event()["data"], "progress_pct": True}), batch=False)
    assert [e["field"] for e in data_only.extensions["errors"]] == ["data.progress_pct"]


def test_an_event_reports_its_source_data_and_subject_errors_together() -> None:
    operator = Principal(key_id="k2", unit="rule-of-law-office", roles=frozenset({Role.OPERATOR}))
    body = event(
        source="/units/nowhere", subject="other", data={**event()["data"], "unit": "audit"}
    )
    parsed = read_http(STRUCTURED, {}, json.dumps(body).encode())
    with pytest.raises(Problem) as refused:
        check_events(parsed, CATALOG, operator)
    assert [e["field"] for e in refused.value.extensions["errors"]] == [
        "source",
        "data.unit",
        "subject",
    ]


# ------------------------------------------------------------------ OpenAPI


def openapi(service: str) -> dict[str, Any]:
    module = {
        "supervision": "supervision.api",
        "petition-mediation": "petition_mediation.api",
        "emergency": "emergency.api",
        "open-government": "open_government.api",
    }[service]
    app = __import__(module, fromlist=["create_app"]).create_app()
    spec: dict[str, Any] = app.openapi()
    return spec


@pytest.mark.parametrize("service", sorted(catalogs()))
def test_the_events_schema_is_typed_per_event_type(service: str) -> None:
    spec = openapi(service)
    content = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    one = content[STRUCTURED]["schema"]
    batch = content[BATCH]["schema"]
    assert batch["minItems"] == 1
    assert batch["items"] == one
    catalog = catalogs()[service]
    titles = [variant["title"] for variant in one["oneOf"]]
    assert titles == catalog.accepted_over_http()
    for variant in one["oneOf"]:
        props = variant["properties"]
        assert {"id", "source", "type", "subject", "time", "data"} <= set(variant["required"])
        assert props["id"]["pattern"]
        assert props["subject"]["pattern"]
        assert props["time"]["pattern"]
        assert props["data"]["additionalProperties"] is False
        name = variant["title"]
        good = event(type=name, subject="X-1", data=sample(name, "X-1"))
        jsonschema_rs.validate(one, good)
        for bad in (
            {**good, "time": 12345},
            {**good, "id": "a/b"},
            {**good, "data": {**good["data"], "surprise": 1}},
            {**good, "Bad_Name": "x"},
            {**good, "seq": {"deep": 1}},
        ):
            with pytest.raises(jsonschema_rs.ValidationError):
                jsonschema_rs.validate(one, bad)
        with pytest.raises(jsonschema_rs.ValidationError):
            jsonschema_rs.validate(batch, [])


def test_the_calendar_put_documents_its_body_and_statuses() -> None:
    put = openapi("supervision")["paths"]["/v1/calendar/{year}"]["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["holidays"]
    assert {"400", "401", "403", "413", "415", "422"} <= set(put["responses"])


# ------------------------------------------------------------------ Allow, OPTIONS


def client() -> httpx.AsyncClient:
    # No lifespan: routing answers these before any dependency needs the runtime.
    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://fazhi.test")


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/calendar/2026", "GET, PUT, DELETE, OPTIONS"),
        ("/v1/events", "POST, OPTIONS"),
        ("/v1/tasks/M18-T1", "GET, OPTIONS"),
        ("/healthz", "GET, OPTIONS"),
        ("/openapi.json", "GET, HEAD, OPTIONS"),
    ],
)
async def test_options_and_405_list_every_method_of_the_path(path: str, allow: str) -> None:
    async with client() as http:
        options = await http.options(path)
        refused = await http.request("PATCH", path)
    assert (options.status_code, options.headers["allow"], options.content) == (204, allow, b"")
    assert refused.status_code == 405
    assert refused.headers["allow"] == allow
    assert refused.headers["content-type"] == "application/problem+json"
    assert allow in refused.json()["detail"]


async def test_options_of_an_unknown_path_is_404() -> None:
    async with client() as http:
        assert (await http.options("/nowhere")).status_code == 404


# ------------------------------------------------------------------ uvicorn's own 400


class _Transport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


class _State:
    def __init__(self) -> None:
        self.default_headers = [(b"server", b"uvicorn")]


def test_a_request_uvicorn_cannot_parse_gets_a_problem() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    create_app()  # installs the problem answer
    protocol: Any = HttpToolsProtocol.__new__(HttpToolsProtocol)
    protocol.transport = _Transport()
    protocol.server_state = _State()
    protocol.send_400_response("Invalid HTTP request received.")
    head, _, body = protocol.transport.written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"content-type: application/problem+json" in head
    assert b"connection: close" in head
    assert f"content-length: {len(body)}".encode() in head
    assert json.loads(body)["status"] == 400
    assert protocol.transport.closed
