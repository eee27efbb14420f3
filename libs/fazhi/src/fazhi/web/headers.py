"""The security headers of every answer, set in one place (`create_service_app` installs the
middleware): a strict Content-Security-Policy on every HTML page, `nosniff` and no referrer on
everything.

The policy allows nothing inline, so a page's script and style come from `/static/` files
(`fazhi.web.pages`) and an injected `<script>` or `onclick=` does not run."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
"""Every HTML page of the platform."""

DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "font-src https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "worker-src blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
"""FastAPI's own API documentation pages (`/docs`, `/redoc` and Swagger's OAuth2 redirect)
only: they start Swagger UI and ReDoc with an inline script, load them from jsDelivr, and
Swagger UI styles its elements inline. They show the OpenAPI document and hold no data, so
they get this looser policy rather than none; no page of Fazhi's own does."""

COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class SecurityHeaders:
    """ASGI middleware: `COMMON` on every answer, and on an HTML one its policy (`PAGE_POLICY`,
    or `DOCS_POLICY` at `docs_paths`). It sets them over whatever a route set: this is the one
    place they are decided."""

    def __init__(self, app: ASGIApp, *, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in self.docs_paths else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_headers(message.get("headers", ()), policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_COMMON_RAW = [(name.lower().encode(), value.encode()) for name, value in COMMON.items()]
_SET = frozenset(name for name, _ in _COMMON_RAW) | {b"content-security-policy"}


def _with_headers(raw: Iterable[tuple[bytes, bytes]], policy: str) -> list[tuple[bytes, bytes]]:
    """An answer's raw headers with `COMMON` (and `policy` on HTML) set over the route's own.
    ASGI header names are lower-case bytes, so this compares them as they are: it runs on every
    answer, and the ingest's share of it was measured."""
    headers = [(name, value) for name, value in raw if name not in _SET]
    html = any(
        name == b"content-type" and value.startswith(b"text/html") for name, value in headers
    )
    headers += _COMMON_RAW
    if html:
        headers.append((b"content-security-policy", policy.encode()))
    return headers
