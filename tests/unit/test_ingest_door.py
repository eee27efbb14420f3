"""`POST /v1/events` has two doors (`fazhi.web.ingest`): `IngestDoor`, the middleware every
service app puts in front of its router, and the documented route behind it. A department
system must not be able to tell them apart: the same request gets the same status, headers and
body from either, refusals and the 503 of an unreachable broker included."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fazhi.bus.publisher import FakePublisher, Placement
from fazhi.contracts.envelope import BATCH, CHINA_TZ, STRUCTURED, CloudEvent
from fazhi.web.app import ServiceApp
from supervision.api import create_app
from tests.support.fakestore import FakeDatabase, fake_runtime

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=CHINA_TZ).isoformat()


def progress(event_id: str, **changes: Any) -> dict[str, Any]:
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/units/justice",
        "type": "supervision.task.progress_reported",
        "subject": "T-1",
        "time": NOW,
        "data": {
            "task_id": "T-1",
            "unit": "justice",
            "progress_pct": 40,
            "note": "按计划推进",
            "reported_at": NOW,
        },
    }
    event.update(changes)
    return event


STRUCTURED_HEADERS = {"content-type": STRUCTURED, "authorization": "Bearer justice"}

REQUESTS: dict[str, tuple[dict[str, str], bytes]] = {
    "accepted": (STRUCTURED_HEADERS, json.dumps(progress("E-1")).encode()),
    "accepted batch": (
        {**STRUCTURED_HEADERS, "content-type": BATCH},
        json.dumps([progress("E-2"), progress("E-3")]).encode(),
    ),
    "no key": ({"content-type": STRUCTURED}, json.dumps(progress("E-4")).encode()),
    "unknown key": (
        {**STRUCTURED_HEADERS, "authorization": "Bearer nobody"},
        json.dumps(progress("E-5")).encode(),
    ),
    "not a cloudevents type": (
        {**STRUCTURED_HEADERS, "content-type": "text/plain"},
        b"hello",
    ),
    "not json": (STRUCTURED_HEADERS, b"{not json"),
    "invalid fields": (
        STRUCTURED_HEADERS,
        json.dumps(progress("E-6", data={"task_id": "T-1", "progress_pct": 400})).encode(),
    ),
    "another unit's source": (
        STRUCTURED_HEADERS,
        json.dumps(progress("E-7", source="/units/court")).encode(),
    ),
    "a phone in the id": (STRUCTURED_HEADERS, json.dumps(progress("13800138000")).encode()),
    "a mixed batch": (
        {**STRUCTURED_HEADERS, "content-type": BATCH},
        json.dumps([progress("E-8"), progress("E-9", type="no.such.type")]).encode(),
    ),
}


class BrokenPublisher(FakePublisher):
    """A publisher with a bug: what no exception handler names."""

    async def publish(
        self, topic: str, events: Sequence[CloudEvent], *, encoded: Sequence[bytes] | None = None
    ) -> list[Placement]:
        raise RuntimeError("a bug in the publisher")


def app(*, door: bool, broker_down: bool = False, broken: bool = False) -> ServiceApp:
    built = create_app(publisher=FakePublisher(fail=broker_down))
    assert isinstance(built, ServiceApp)
    runtime = fake_runtime(FakeDatabase())
    runtime.publisher = BrokenPublisher() if broken else FakePublisher(fail=broker_down)
    built.state.runtime = runtime
    built.ingest_door = door
    return built


async def answer(
    built: FastAPI, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], Any]:
    # An unexpected error is answered with a problem and raised on to the server, whose log
    # then has it: here the answer is compared, the raise is checked apart.
    transport = httpx.ASGITransport(app=built, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/v1/events", content=body, headers=headers)
    kept = ("content-type", "www-authenticate", "retry-after", "x-content-type-options")
    return (
        response.status_code,
        {name: response.headers[name] for name in kept if name in response.headers},
        response.json(),
    )


async def alike(name: str, **runtime: bool) -> tuple[int, dict[str, str], Any]:
    """The answer to request `name` through the door, once it is the route's answer too."""
    headers, body = REQUESTS[name]
    through_door = await answer(app(door=True, **runtime), headers, body)
    through_route = await answer(app(door=False, **runtime), headers, body)
    assert through_door == through_route
    return through_door


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_both_doors_answer_a_request_alike(name: str) -> None:
    through_door = await alike(name)
    status = through_door[0]
    assert status in (202, 400, 401, 403, 415, 422), through_door


async def test_both_doors_refuse_alike_while_the_broker_is_away() -> None:
    through_door = await alike("accepted", broker_down=True)
    assert through_door[0] == 503
    assert through_door[1]["retry-after"]
    assert through_door[1]["content-type"] == "application/problem+json"


async def test_both_doors_answer_an_unexpected_error_alike_and_raise_it_to_the_server() -> None:
    through_door = await alike("accepted", broken=True)
    assert through_door[0] == 500
    assert through_door[1]["content-type"] == "application/problem+json"
    assert through_door[1]["x-content-type-options"] == "nosniff"
    headers, body = REQUESTS["accepted"]
    for door in (True, False):
        transport = httpx.ASGITransport(app=app(door=door, broken=True))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            with pytest.raises(RuntimeError, match="a bug in the publisher"):
                await http.post("/v1/events", content=body, headers=headers)


async def test_the_door_takes_only_posts_to_the_events_path() -> None:
    built = app(door=True)
    transport = httpx.ASGITransport(app=built)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        wrong_method = await http.get("/v1/events", headers={"authorization": "Bearer justice"})
        other_path = await http.post("/v1/events/x", headers={"authorization": "Bearer justice"})
    # The router's answers: 405 naming what the path allows, 404 or 405 for another path.
    assert wrong_method.status_code == 405
    assert "POST" in wrong_method.headers["allow"]
    assert other_path.status_code in (404, 405)
    assert other_path.headers["content-type"] == "application/problem+json"
