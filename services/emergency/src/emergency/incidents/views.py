"""Incidents as staff read them: the board of one status, and one incident with its response
levels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from emergency.domain import IncidentState
from emergency.store import INCIDENT_LEVELS, INCIDENTS, PRIVATE
from fazhi.app import Scope, Timeline, document_router
from fazhi.contracts.emergency import Grade, ResponseLevel
from fazhi.contracts.terms import with_labels
from fazhi.pagination import PageQuery, fetch_page
from fazhi.projection import INTERNAL_FIELDS, OWNERS
from fazhi.roles import Role
from fazhi.runtime import Caller, ServiceRuntime, runtime

SCOPE = Scope(owners="the reporting unit", roles=frozenset({Role.STAFF}))
TERMS = {"grade": Grade, "response_level": ResponseLevel}
LIST_FIELDS = {name: 0 for name in (*INTERNAL_FIELDS, PRIVATE)}


def router() -> APIRouter:
    router = APIRouter(tags=["incidents"])

    @router.get(
        "/v1/incidents",
        summary="Incidents of one status (the board), latest first",
        description=f"Who reads what: {SCOPE.describe().split(';')[0]}; a department key "
        "lists its unit's incidents only.",
    )
    async def list_incidents(
        who: Caller,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        page: PageQuery,
        status: Annotated[IncidentState, Query(description="reported, responding, ...")],
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"status": str(status)}
        if not SCOPE.allows(who, {}):
            query[OWNERS] = who.unit
        found = await fetch_page(
            rt.db[INCIDENTS],
            query,
            page,
            key="occurred_at",
            descending=True,
            projection=LIST_FIELDS,
        )
        return found.body([_shown(doc) for doc in found.items])

    router.include_router(
        document_router(
            path="/v1/incidents",
            collection=INCIDENTS,
            id_name="incident_id",
            tag="incidents",
            summary="An incident as reported and responded to, with its response levels",
            scope=SCOPE,
            hidden=(PRIVATE,),
            timelines=[
                Timeline(
                    "level_history", INCIDENT_LEVELS, "incident_id", terms={"level": ResponseLevel}
                )
            ],
            terms=TERMS,
        )
    )
    return router


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    doc["incident_id"] = doc.pop("_id")
    return with_labels(doc, TERMS)
