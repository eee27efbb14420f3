"""`GET /console`, the staff console page (zh-CN), and `GET /v1/whoami`, which the page asks
to learn the unit of the key it was given.

The page (`templates/console.html`, `static/console.js`) holds no data of its own: it is the
same for everyone, and reads everything with the staff key the user types in, which it keeps in
`sessionStorage` (gone when the tab closes, never sent anywhere but this api's `Authorization`
header). The alert event types it follows come from the contract, named in the page's
`data-types`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from emergency import responses
from fazhi.contracts.emergency import (
    CONTRACT,
    AlertAcknowledged,
    AlertEscalated,
    AlertExpired,
    AlertIssued,
)
from fazhi.rules import UnknownUnitError, get_unit
from fazhi.web import Caller, Pages, static_router

PAGES = Pages("emergency.console")
FOLLOWED = {
    AlertIssued: "issued",
    AlertAcknowledged: "acknowledged",
    AlertEscalated: "escalated",
    AlertExpired: "expired",
}
"""The alert events the console follows, by payload, under the name its script uses."""
TYPES = {FOLLOWED[t.model]: t.name for t in CONTRACT.types.values() if t.model in FOLLOWED}


def router() -> APIRouter:
    router = APIRouter()
    router.include_router(static_router("emergency.console"))

    @router.get("/console", response_class=HTMLResponse, include_in_schema=False)
    async def console() -> HTMLResponse:
        return PAGES.render(
            "console.html",
            headers={"Cache-Control": "no-store"},
            title="应急值守台 · 碑林区突发事件应对",
            heading="应急值守台 · 突发事件应对",
            types=TYPES,
        )

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
