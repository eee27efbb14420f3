"""RFC 9457 problem details: the one error format of every Fazhi HTTP endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    names = ", ".join(sorted({e["field"] for e in errors}))
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


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    problem = Problem(exc.status_code, detail, headers=exc.headers)
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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _problem_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(PyMongoError, _storage_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
