"""Every answer of every api carries the security headers (`fazhi.web.headers`): each HTML page
a Content-Security-Policy that allows nothing inline, every answer `nosniff` and no referrer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.applications import Starlette
from starlette.responses import HTMLResponse as PlainHTML
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import BaseRoute, Route

from emergency.api import create_app as emergency_app
from fazhi.bus.publisher import FakePublisher
from fazhi.web.headers import DOCS_POLICY, PAGE_POLICY, SecurityHeaders
from open_government.api import create_app as opengov_app
from petition_mediation.api import create_app as mediation_app
from supervision.api import create_app as supervision_app
from tests.support.fakestore import FakeDatabase, fake_runtime

APPS: dict[str, Callable[..., FastAPI]] = {
    "supervision": supervision_app,
    "petition-mediation": mediation_app,
    "emergency": emergency_app,
    "open-government": opengov_app,
}
SAMPLES = {
    "year": "2026",
    "document_id": "D1",
    "version": "1",
    "kind": "normative",
    "unit": "justice",
    "decision_id": "MD1",
    "number": "YSQ20260701-ABCDEFGH",
    "item_id": "finding-F1",
}
SUPERVISOR = {"authorization": "Bearer supervisor"}


def app_of(name: str) -> FastAPI:
    app = APPS[name](publisher=FakePublisher())
    app.state.runtime = fake_runtime(FakeDatabase())
    return app


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route, in the routers included (none of them with a prefix) too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def html_pages(app: FastAPI) -> list[str]:
    """The path of every page (a GET route answering HTML), its parameters filled in."""
    return [
        re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], route.path)
        for route in api_routes(app.routes)
        if "GET" in route.methods and route.response_class is HTMLResponse
    ]


PAGES = [(name, path) for name in sorted(APPS) for path in html_pages(app_of(name))]


def test_every_service_with_pages_is_covered() -> None:
    found = {path for _, path in PAGES}
    assert {"/dashboard", "/dashboard/panel", "/console", "/", "/requests/new"} <= found
    assert "/v1/reports/annual/2026" in found


def assert_strict(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html"), response.text
    policy = response.headers["content-security-policy"]
    assert policy == PAGE_POLICY
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(("service", "path"), PAGES)
async def test_every_html_page_carries_a_policy_without_unsafe_inline(
    service: str, path: str
) -> None:
    transport = httpx.ASGITransport(app=app_of(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get(path, headers=SUPERVISOR)
    assert response.status_code in (200, 404), response.text
    assert_strict(response)


@pytest.mark.parametrize("service", sorted(APPS))
async def test_json_answers_and_problems_carry_nosniff(service: str) -> None:
    transport = httpx.ASGITransport(app=app_of(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for response in (
            await http.get("/healthz"),
            await http.get("/v1/units"),
            await http.get("/v1/calendar/2026"),  # 401, a problem
            await http.get("/no/such/path"),  # 404, a problem
            await http.get("/openapi.json"),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "text/html" not in response.headers["content-type"]


@pytest.mark.parametrize("service", sorted(APPS))
async def test_only_fastapis_docs_pages_get_the_docs_policy(service: str) -> None:
    transport = httpx.ASGITransport(app=app_of(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            response = await http.get(path)
            assert response.status_code == 200
            assert response.headers["content-security-policy"] == DOCS_POLICY
            assert response.headers["x-content-type-options"] == "nosniff"
        # Swagger UI and ReDoc come from jsDelivr, started by an inline script.
        assert "https://cdn.jsdelivr.net" in DOCS_POLICY
        assert "https://cdn.jsdelivr.net" not in PAGE_POLICY


def bare_app(route_headers: dict[str, str] | None = None) -> Starlette:
    async def page(request: object) -> PlainHTML:
        return PlainHTML("<p>hi</p>", headers=route_headers)

    async def data(request: object) -> JSONResponse:
        return JSONResponse({"a": 1})

    async def stream(request: object) -> StreamingResponse:
        async def chunks() -> object:
            yield b"data: 1\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")  # type: ignore[arg-type]

    app = Starlette(
        routes=[
            Route("/page", page),
            Route("/data", data),
            Route("/stream", stream),
            Route("/docs", page),
        ]
    )
    app.add_middleware(SecurityHeaders, docs_paths=["/docs"])
    return app


async def test_the_middleware_decides_the_headers_over_what_a_route_set() -> None:
    weak = {
        "Content-Security-Policy": "script-src 'unsafe-inline'",
        "Referrer-Policy": "unsafe-url",
    }
    transport = httpx.ASGITransport(app=bare_app(weak))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = await http.get("/page")
        assert page.headers.get_list("content-security-policy") == [PAGE_POLICY]
        assert page.headers.get_list("referrer-policy") == ["no-referrer"]
        assert (await http.get("/docs")).headers["content-security-policy"] == DOCS_POLICY
        data = await http.get("/data")
        assert "content-security-policy" not in data.headers
        assert data.headers["x-content-type-options"] == "nosniff"
        stream = await http.get("/stream")
        assert stream.text == "data: 1\n\n"
        assert stream.headers["x-content-type-options"] == "nosniff"


async def test_a_refused_portal_form_is_a_page_with_the_policy_too() -> None:
    transport = httpx.ASGITransport(app=app_of("open-government"))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/requests", data={"unit": "nope"})
    assert response.status_code == 400
    assert "请选择受理机关" in response.text
    assert_strict(response)
