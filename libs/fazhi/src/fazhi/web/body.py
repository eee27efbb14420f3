"""The one way a route reads a request body: bounded while it streams in, and, for JSON, in
the order every route refuses it (415, 413, 400, 422)."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from fazhi.contracts.envelope import EnvelopeError
from fazhi.contracts.strictjson import load_json
from fazhi.web.cloudevents import media_type
from fazhi.web.problems import Problem, field_errors, invalid_fields

Model = TypeVar("Model", bound=BaseModel)


def _too_large(limit: int) -> Problem:
    return Problem(413, f"The body is larger than {limit} bytes.", kind="payload-too-large")


async def read_body(request: Request, *, limit: int) -> bytes:
    """The body, refused (413) as soon as its declared length or what has arrived passes
    `limit`: nothing larger is ever held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


async def read_json_body(request: Request, model: type[Model], *, limit: int, what: str) -> Model:
    """A JSON body as `model`: 415 unless `application/json`, 413 past `limit` bytes, 400 for
    JSON the platform does not read (`fazhi.contracts.strictjson.load_json`), 422 naming each invalid field.

    Call it once the caller is known: FastAPI would parse a declared body before any
    dependency ran, so a request without a key would learn how its JSON was wrong."""
    if media_type(request.headers.get("content-type")) != "application/json":
        raise Problem(415, f"Send the {what} as application/json.", kind="unsupported-media-type")
    body = await read_body(request, limit=limit)
    try:
        obj = load_json(body)
    except EnvelopeError as exc:
        raise Problem(400, f"The body is not JSON: {exc}.", kind="malformed-body") from exc
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise invalid_fields(field_errors(exc.errors()), what=what) from exc
