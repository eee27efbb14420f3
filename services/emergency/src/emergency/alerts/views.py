"""Alerts as staff and departments read them: the active list, one alert with its
acknowledgements, and its CAP 1.2 XML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from emergency import responses
from emergency.alerts import live
from emergency.alerts.cap import to_cap
from emergency.domain import MessageStatus
from emergency.store import ACK_BUCKET, ACKNOWLEDGEMENTS, ALERTS, EXPIRES_BUCKET, PRIVATE
from fazhi.contracts.emergency import AlertLevel, CapStatus, MsgType
from fazhi.contracts.envelope import ID_PATTERN
from fazhi.contracts.terms import with_labels
from fazhi.roles import Role
from fazhi.store import INTERNAL_FIELDS
from fazhi.web import (
    Caller,
    Listing,
    PageQuery,
    Problem,
    Scope,
    ServiceRuntime,
    Timeline,
    document_router,
    runtime,
)

SCOPE = Scope(owners="the issuing unit", roles=frozenset({Role.STAFF}))
TERMS = {"msg_type": MsgType, "cap_status": CapStatus, "level": AlertLevel}
HIDDEN = ("chain", ACK_BUCKET, EXPIRES_BUCKET)
XML_FIELDS = {name: 0 for name in (*INTERNAL_FIELDS, PRIVATE, "chain")}


def _order(query: Mapping[str, Any]) -> str:
    """Active ones red first; ended ones latest first."""
    return "level_rank" if query["status"] == MessageStatus.ACTIVE else "sent"


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    doc["alert_id"] = doc.pop("_id")
    return with_labels(doc, TERMS)


LISTING = Listing(
    ALERTS,
    scope=SCOPE,
    bounds=frozenset({"status"}),
    key=_order,
    descending=True,
    projection={name: 0 for name in (*INTERNAL_FIELDS, PRIVATE, *HIDDEN)},
    render=_shown,
)


def router(topic: str) -> APIRouter:
    router = APIRouter(tags=["alerts"])
    router.include_router(live.router(topic))

    @router.get(
        "/v1/alerts",
        summary="Alerts by status: the active ones (in force or about to be) red first, the "
        "ended ones (replaced, cancelled, expired) latest first",
        description=f"Who reads what: {SCOPE.describe().split(';')[0]}; a department key "
        "lists its unit's alerts only.",
        responses=responses.LIST,
    )
    async def list_alerts(
        who: Caller,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        page: PageQuery,
        active: Annotated[
            bool | None, Query(description="true: the active alerts (status=active)")
        ] = None,
        status: Annotated[MessageStatus | None, Query(description="One status")] = None,
    ) -> dict[str, Any]:
        if active is not None and status is not None:
            raise Problem(400, "Give `active` or `status`, not both.", kind="bad-query")
        if active is False:
            raise Problem(400, "Ask for `status` to list ended alerts.", kind="bad-query")
        wanted = status or MessageStatus.ACTIVE
        return await LISTING.page(rt.db, who, {"status": str(wanted)}, page)

    @router.get(
        "/v1/alerts/{alert_id}.xml",
        summary="An alert message as OASIS CAP 1.2 XML",
        description=f"Who reads it: {SCOPE.describe()}, exactly as for an unknown id.",
        openapi_extra={"x-fazhi-read-scope": SCOPE.describe()},
        response_class=Response,
        responses={
            200: {"content": {"application/cap+xml": {}}, "description": "CAP 1.2"},
            **responses.READ,
        },
    )
    async def alert_xml(
        who: Caller,
        alert_id: Annotated[str, Path(pattern=ID_PATTERN)],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> Response:
        doc = await rt.db[ALERTS].find_one({"_id": alert_id}, XML_FIELDS)
        if doc is None or not SCOPE.allows(who, doc) or "cap_status" not in doc:
            raise Problem(404, f"No alert {alert_id!r} is known yet.", kind="not-found")
        referenced = [
            found
            for ref in doc.get("references", [])
            if (found := await rt.db[ALERTS].find_one({"_id": ref}, XML_FIELDS)) is not None
        ]
        return Response(to_cap(doc, referenced), media_type="application/cap+xml")

    router.include_router(
        document_router(
            path="/v1/alerts",
            collection=ALERTS,
            id_name="alert_id",
            tag="alerts",
            summary="An alert message: its status (active, replaced, cancelled, expired) and "
            "acknowledgements",
            scope=SCOPE,
            hidden=HIDDEN,
            timelines=[Timeline("acknowledgements", ACKNOWLEDGEMENTS, "alert_id")],
            terms=TERMS,
        )
    )
    return router
