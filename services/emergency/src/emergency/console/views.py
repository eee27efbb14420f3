"""`GET /console`, the staff console page (zh-CN), and `GET /v1/whoami`, which the page asks
to learn the unit of the key it was given.

The page holds no data of its own: it is the same for everyone, and reads everything with the
staff key the user types in, which it keeps in `sessionStorage` (gone when the tab closes,
never sent anywhere but this api's `Authorization` header)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from emergency import responses
from fazhi.runtime import Caller
from fazhi.units import UnknownUnitError, get_unit

PAGE = files("emergency.console").joinpath("console.html")
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def router() -> APIRouter:
    router = APIRouter()
    page = PAGE.read_text(encoding="utf-8")

    @router.get("/console", response_class=HTMLResponse, include_in_schema=False)
    async def console() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)

    @router.get(
        "/v1/whoami",
        tags=["console"],
        summary="The unit and roles of the key",
        responses=responses.UNAUTHENTICATED,
    )
    async def whoami(who: Caller) -> dict[str, Any]:
        try:
            name = get_unit(who.unit).name
        except UnknownUnitError:
            name = who.unit
        return {"unit": who.unit, "unit_name": name, "roles": sorted(who.roles)}

    return router
