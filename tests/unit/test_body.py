"""One bounded body reader (`fazhi.web.body`): a body is refused as soon as it passes its limit,
and a JSON body in the one order every route refuses it (415, 413, 400, 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from fazhi.bus.publisher import FakePublisher
from fazhi.contracts.models import Payload
from fazhi.web.body import read_body, read_json_body
from fazhi.web.problems import install_problem_handlers
from open_government.api import create_app as opengov_app
from supervision.api import create_app as supervision_app
from tests.support.fakestore import FakeDatabase, fake_runtime

LIMIT = 64


class Thing(Payload):
    name: str
    count: int


def reader_app() -> tuple[FastAPI, list[int]]:
    app = FastAPI()
    install_problem_handlers(app)
    received: list[int] = []

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        body = await read_body(request, limit=LIMIT)
        received.append(len(body))
        return {"length": len(body)}

    @app.post("/thing")
    async def thing(request: Request) -> dict[str, Any]:
        found = await read_json_body(request, Thing, limit=LIMIT, what="thing")
        return found.model_dump()

    return app, received


@pytest.fixture
async def http() -> AsyncIterator[tuple[httpx.AsyncClient, list[int]]]:
    app, received = reader_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, received


async def test_a_body_within_the_limit_is_read_whole(
    http: tuple[httpx.AsyncClient, list[int]],
) -> None:
    client, received = http
    response = await client.post("/raw", content=b"x" * LIMIT)
    assert response.json() == {"length": LIMIT}
    assert received == [LIMIT]


async def test_a_streamed_body_past_the_limit_is_refused_before_it_ends(
    http: tuple[httpx.AsyncClient, list[int]],
) -> None:
    client, received = http
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(100):
            sent.append(n)
            yield b"y" * 16

    response = await client.post("/raw", content=chunks())  # chunked: no Content-Length
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/payload-too-large")
    assert received == []
    assert len(sent) < 10  # the rest was never read


async def test_a_declared_length_past_the_limit_is_refused_unread(
    http: tuple[httpx.AsyncClient, list[int]],
) -> None:
    client, _ = http
    response = await client.post(
        "/raw", content=b"small", headers={"content-length": str(LIMIT + 1)}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == f"The body is larger than {LIMIT} bytes."


@pytest.mark.parametrize(
    ("content_type", "body", "status", "detail"),
    [
        ("text/plain", b'{"name": "a", "count": 1}', 415, "Send the thing as application/json."),
        ("application/json", b'{"name": "' + b"a" * LIMIT + b'"}', 413, "larger than"),
        ("application/json", b'{"name": "a", "name": "b", "count": 1}', 400, "not JSON"),
        ("application/json", b"\xef\xbb\xbf{}", 400, "not JSON"),
        ("application/json", b'{"name": "a", "count": "1"}', 422, "count"),
        ("application/json", b'{"name": "a", "count": 1, "extra": 0}', 422, "extra"),
    ],
)
async def test_a_json_body_is_refused_in_one_order(
    http: tuple[httpx.AsyncClient, list[int]],
    content_type: str,
    body: bytes,
    status: int,
    detail: str,
) -> None:
    client, _ = http
    response = await client.post("/thing", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


async def test_a_valid_json_body_is_its_model(http: tuple[httpx.AsyncClient, list[int]]) -> None:
    client, _ = http
    response = await client.post(
        "/thing", content=b'{"name": "a", "count": 2}', headers={"content-type": "application/json"}
    )
    assert response.json() == {"name": "a", "count": 2}


async def test_the_apis_read_their_bodies_with_it() -> None:
    operator = {"authorization": "Bearer operator"}
    for create, path, method, limit in (
        (supervision_app, "/v1/events", "POST", 1024 * 1024),
        (supervision_app, "/v1/calendar/2099", "PUT", 64 * 1024),
        (opengov_app, "/v1/registry/numbers", "POST", 4096),
    ):
        app = create(publisher=FakePublisher())
        app.state.runtime = fake_runtime(FakeDatabase())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            content_type = "application/cloudevents+json" if path == "/v1/events" else None
            headers = {**operator, "content-type": content_type or "application/json"}
            response = await client.request(
                method, path, content=b"[" + b" " * limit + b"]", headers=headers
            )
            assert response.status_code == 413, (path, response.text)
            assert response.json()["detail"] == f"The body is larger than {limit} bytes."
