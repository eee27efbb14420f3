"""Incidents as staff read them: the board of one status, and one incident with its response
levels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from emergency import responses
from emergency.domain import IncidentState
from emergency.store import INCIDENT_LEVELS, INCIDENTS, PRIVATE
from fazhi.contracts.emergency import Grade, IncidentCategory, ResponseLevel
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

SCOPE = Scope(owners="the reporting unit", roles=frozenset({Role.STAFF}))
PERSONS_SCOPE = "staff keys of any unit only; any other key: 404"
TERMS = {"grade": Grade, "response_level": ResponseLevel, "category": IncidentCategory}


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    doc["incident_id"] = doc.pop("_id")
    return with_labels(doc, TERMS)


LISTING = Listing(
    INCIDENTS,
    scope=SCOPE,
    bounds=frozenset({"status"}),
    key="occurred_at",
    descending=True,
    projection={name: 0 for name in (*INTERNAL_FIELDS, PRIVATE)},
    render=_shown,
)


def router() -> APIRouter:
    router = APIRouter(tags=["incidents"])

    @router.get(
        "/v1/incidents",
        summary="Incidents of one status (the board), latest first",
        description=f"Who reads what: {SCOPE.describe().split(';')[0]}; a department key "
        "lists its unit's incidents only.",
        responses=responses.LIST,
    )
    async def list_incidents(
        who: Caller,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        page: PageQuery,
        status: Annotated[IncidentState, Query(description="reported, responding, ...")],
    ) -> dict[str, Any]:
        return await LISTING.page(rt.db, who, {"status": str(status)}, page)

    @router.get(
        "/v1/incidents/{incident_id}/persons",
        summary="The persons an incident report names (personal data)",
        description=f"Who reads it: {PERSONS_SCOPE}, exactly as for an unknown id. Kept until "
        "the retention after the incident closes ends, then erased.",
        openapi_extra={"x-fazhi-read-scope": PERSONS_SCOPE},
        responses=responses.READ,
    )
    async def persons(
        who: Caller,
        incident_id: Annotated[str, Path(pattern=ID_PATTERN)],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        doc = await rt.db[INCIDENTS].find_one(
            {"_id": incident_id}, {PRIVATE: 1, "personal_data_purged_at": 1}
        )
        if doc is None or not who.has(Role.STAFF):
            raise Problem(404, f"No incident {incident_id!r} is known yet.", kind="not-found")
        private = doc.get(PRIVATE) or {}
        return {
            "incident_id": incident_id,
            "affected_persons": private.get("affected_persons", []),
            "purged_at": doc.get("personal_data_purged_at"),
        }

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
