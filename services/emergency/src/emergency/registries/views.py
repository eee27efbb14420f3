"""`GET /v1/plans/{id}`, `/v1/supplies/{id}` (and the supplies below their minimum),
`/v1/forces/{id}`: the registries as staff and their owners read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from emergency import responses
from emergency.store import FORCE_HISTORY, FORCES, PLAN_DRILLS, PLANS, PRIVATE, SUPPLIES
from fazhi.contracts.emergency import PlanKind
from fazhi.roles import Role
from fazhi.store import INTERNAL_FIELDS
from fazhi.web import (
    Caller,
    Listing,
    PageQuery,
    Scope,
    ServiceRuntime,
    Timeline,
    document_router,
    runtime,
)

STAFF = frozenset({Role.STAFF})
SUPPLY_SCOPE = Scope(owners="the unit that counts the depot", roles=STAFF)


def _supply(doc: dict[str, Any]) -> dict[str, Any]:
    return {"supply_id": doc.pop("_id"), **doc}


LOW_SUPPLIES = Listing(
    SUPPLIES,
    scope=SUPPLY_SCOPE,
    bounds=frozenset({"status"}),
    projection={name: 0 for name in (*INTERNAL_FIELDS, PRIVATE)},
    render=_supply,
)


def router() -> APIRouter:
    router = APIRouter(tags=["registries"])

    @router.get(
        "/v1/supplies",
        summary="Supplies below their minimum (`emergency.supply.low`)",
        description=f"Who reads what: {SUPPLY_SCOPE.describe().split(';')[0]}; a department "
        "key lists its unit's supplies only.",
        responses=responses.LIST,
    )
    async def low_supplies(
        who: Caller, rt: Annotated[ServiceRuntime, Depends(runtime)], page: PageQuery
    ) -> dict[str, Any]:
        return await LOW_SUPPLIES.page(rt.db, who, {"status": "low"}, page)

    router.include_router(
        document_router(
            path="/v1/plans",
            collection=PLANS,
            id_name="plan_id",
            tag="registries",
            summary="An emergency plan 应急预案: kind, owner, last drill, revision due",
            scope=Scope(owners="the registering unit", parties=("owner_unit",), roles=STAFF),
            hidden=("reminder_days",),
            timelines=[Timeline("drills", PLAN_DRILLS, "plan_id")],
            terms={"kind": PlanKind},
        )
    )
    router.include_router(
        document_router(
            path="/v1/supplies",
            collection=SUPPLIES,
            id_name="supply_id",
            tag="registries",
            summary="A supply 应急物资 in a depot against its minimum",
            scope=SUPPLY_SCOPE,
        )
    )
    router.include_router(
        document_router(
            path="/v1/forces",
            collection=FORCES,
            id_name="force_id",
            tag="registries",
            summary="A social emergency force 社会应急力量: capabilities, call-ups, "
            "compensation (its contact is never returned)",
            scope=Scope(owners="the registering unit", roles=STAFF),
            timelines=[Timeline("history", FORCE_HISTORY, "force_id")],
        )
    )
    return router
