"""The error answers of emergency's own read routes, as OpenAPI documents them: each is an
`application/problem+json` (RFC 9457), so no JSON schema is declared for them."""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]

UNAUTHENTICATED: Responses = {401: {"description": "Missing or unknown API key"}}
INVALID: Responses = {422: {"description": "A parameter is not of its type, pattern or range"}}
READ: Responses = {
    **UNAUTHENTICATED,
    404: {"description": "Not known (yet), or not readable with this key (the same answer)"},
    **INVALID,
}
LIST: Responses = {
    400: {"description": "A cursor this list did not give, or `active` and `status` together"},
    **UNAUTHENTICATED,
    **INVALID,
}
