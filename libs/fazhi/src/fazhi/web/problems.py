"""RFC 9457 problem details: the one error format of every Fazhi HTTP endpoint."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://fazhi.example/problems/"


class Problem(Exception):
    """An error that becomes an `application/problem+json` response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.title = title or HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


def field_errors(errors: Any, *, prefix: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    """Pydantic errors as `{"field": "data.progress_pct", "message": ...}` items."""
    out: list[dict[str, str]] = []
    for error in errors:
        location = [*prefix, *(p for p in error.get("loc", ()) if p not in ("body",))]
        out.append(
            {
                "field": ".".join(str(p) for p in location) or "(body)",
                "message": str(error.get("msg", "invalid")),
            }
        )
    return out


def invalid_fields(errors: list[dict[str, str]], *, what: str = "request") -> Problem:
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return Problem(
        422,
        f"The {what} has invalid fields: {names}.",
        kind="validation-error",
        title="Unprocessable Content",
        errors=errors,
    )


async def _problem_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path, OPTIONS included (each method is
    tried against the routes, as the router would).

    Starlette's own 405 names the methods of the first route that matched the path only, and
    FastAPI makes one route per method (`/v1/calendar/{year}` is three).
    """
    allowed = ["OPTIONS"]
    for method in _METHOD_ORDER[:-1]:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return sorted(allowed, key=_METHOD_ORDER.index)


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        if request.method == "OPTIONS":
            # What the resource allows, for any caller (CORS preflights included).
            return Response(status_code=204, headers={"Allow": allow})
        headers["Allow"] = allow
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here; allowed: {headers['Allow']}."
    problem = Problem(exc.status_code, detail, headers=headers)
    return problem_response(problem, request)


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(invalid_fields(field_errors(exc.errors())), request)


async def _storage_handler(request: Request, exc: Exception) -> JSONResponse:
    problem = Problem(
        503,
        "The database is unavailable; nothing was changed. Retry later.",
        kind="unavailable",
        headers={"Retry-After": "5"},
    )
    return problem_response(problem, request)


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    problem = Problem(500, "The server failed to handle this request; it has been logged.")
    return problem_response(problem, request)


def _unparsable_request() -> bytes:
    return json.dumps(
        Problem(
            400,
            "The request is not valid HTTP/1.1 and was not read: a malformed request line or "
            "header (a bare CR or LF, a control character), or a request target longer than "
            "65,535 bytes.",
            kind="malformed-request",
        ).body()
    ).encode()


def install_server_problems() -> None:
    """Answer the requests uvicorn cannot parse with a problem too, not its text/plain 400.

    uvicorn refuses such a request itself, before any app sees it, in its protocol's
    `send_400_response`; that method is replaced (once per process) by one that writes the
    same status with an `application/problem+json` body and closes the connection, as uvicorn
    does. What stays out of reach: the status stays 400 (the parser does not say why it failed),
    and when the client is still sending as the connection closes, its kernel may see a
    reset before it reads the answer.
    """
    body = _unparsable_request()
    head = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # pragma: no cover - httptools is a dependency
        httptools_impl = None  # type: ignore[assignment]
    if httptools_impl is not None and not getattr(
        httptools_impl.HttpToolsProtocol.send_400_response, "_fazhi", False
    ):

        def send_400_response(self: Any, msg: str) -> None:
            log.warning("unparsable request refused: %s", msg)
            content = [httptools_impl.STATUS_LINE[400]]
            for name, value in [*self.server_state.default_headers, *head]:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend([b"\r\n", body])
            self.transport.write(b"".join(content))
            self.transport.close()

        send_400_response._fazhi = True  # type: ignore[attr-defined]
        httptools_impl.HttpToolsProtocol.send_400_response = send_400_response  # type: ignore[method-assign]
    try:
        import h11
        from uvicorn.protocols.http import h11_impl
    except ImportError:  # pragma: no cover
        return
    if not getattr(h11_impl.H11Protocol.send_400_response, "_fazhi", False):

        def send_400_h11(self: Any, msg: str) -> None:
            log.warning("unparsable request refused: %s", msg)
            response = h11.Response(status_code=400, headers=head, reason=b"Bad Request")
            self.transport.write(self.conn.send(response))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

        send_400_h11._fazhi = True  # type: ignore[attr-defined]
        h11_impl.H11Protocol.send_400_response = send_400_h11  # type: ignore[method-assign]


Handler = Callable[[Request, Exception], Awaitable[Response]]


def handler_for(app: Any, exc: Exception) -> Handler | None:
    """The handler `install_problem_handlers` put on `app` for `exc`, looked up as the router's
    exception middleware looks it up (the nearest class of the exception's); None where only
    the catch-all `Exception` handler would take it, which the server-error middleware outside
    every route and door applies itself (and logs the traceback)."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            handler: Handler = handlers[cls]
            return handler
    return None


async def server_error(request: Request, exc: Exception) -> Response:
    """The answer the app's server-error middleware gives an exception no handler names (the
    catch-all `Exception` handler's), for an ASGI layer outside it to send before raising."""
    handler: Handler = request.app.exception_handlers.get(Exception, _unhandled_handler)
    return await handler(request, exc)


def install_problem_handlers(app: FastAPI) -> None:
    install_server_problems()
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(PyMongoError, _storage_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
