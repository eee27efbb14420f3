"""The answers the supervision read routes document besides their 200 (errors are problems)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from fazhi.web import Caller, Principal, Problem


def documented(
    *, paged: bool = False, supervisor: bool = False, media: tuple[str, ...] = ()
) -> dict[int | str, dict[str, Any]]:
    answers: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing or unknown API key"},
        422: {"description": "A parameter out of its range or set"},
    }
    if paged:
        answers[400] = {"description": "A cursor this API did not give"}
    if supervisor:
        answers[403] = {"description": "Not a supervisor or operator key"}
    if media:
        answers[200] = {"content": {m: {} for m in media}}
    return answers


def strict_query(*names: str) -> Callable[[Request, Principal], Awaitable[None]]:
    """A dependency refusing (422) query parameters the route does not take, as events refuse
    unknown fields: a misspelt filter must not silently list everything."""
    known = frozenset(names)

    async def check(request: Request, _: Caller) -> None:  # the key first, as on every route
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise Problem(
                422,
                f"Unknown query parameters: {', '.join(map(repr, unknown))}; this route takes "
                f"{', '.join(sorted(known)) or 'none'}.",
                kind="invalid-fields",
                errors=[{"field": f"query.{name}", "message": "unknown"} for name in unknown],
            )

    return check
