"""`GET /v1/items` (filtered, cursor pages; this year's without a filter), `GET /v1/items.csv`
and `GET /v1/items/{item_id}`: supervision items with their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from fazhi.contracts.envelope import CHINA_TZ, ID_PATTERN
from fazhi.contracts.models import UnitCode
from fazhi.contracts.supervision import Escalation, ItemKind, ItemLevel, ItemStatus
from fazhi.contracts.terms import with_labels
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
from supervision.responses import documented, strict_query
from supervision.store import ITEM_HISTORY, ITEMS

ITEM_FILTERS = ("kind", "unit", "status", "level", "source_event_id", "year")
TERMS = {"escalation": Escalation, "level": ItemLevel, "status": ItemStatus}
SCOPE = Scope(owners="the unit under supervision", parties=("unit",))
CSV_FIELDS = (
    "item_id",
    "kind",
    "unit",
    "level",
    "escalation",
    "status",
    "title",
    "opened_at",
    "due_at",
    "closed_at",
    "days_to_close",
    "source_event_ids",
)
BOUND = (
    "Every list is bounded by an equality on an indexed field: without `kind`, `status`, "
    "`level`, `source_event_id` or `year` (or the unit a department key is held to), it lists "
    "the items opened this year (China time), as `year` would."
)


def render(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["item_id"] = doc.pop("_id")
    return with_labels(doc, TERMS)


def this_year() -> dict[str, Any]:
    return {"opened_year": datetime.now(CHINA_TZ).year}


LISTING = Listing(
    ITEMS,
    scope=SCOPE,
    bounds=frozenset({"kind", "unit", "status", "level", "source_event_ids", "opened_year"}),
    key="opened_at",
    descending=True,
    default=this_year,
    unit_field="unit",
    projection={name: 0 for name in INTERNAL_FIELDS},
    render=render,
)


async def filters(
    kind: Annotated[ItemKind | None, Query(description="What the item is about")] = None,
    unit: Annotated[UnitCode | None, Query(description="The unit under supervision")] = None,
    status: Annotated[ItemStatus | None, Query(description="open, rectifying or closed")] = None,
    level: Annotated[ItemLevel | None, Query(description="blue, yellow, orange or red")] = None,
    source_event_id: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            max_length=128,
            description="The id of a trigger event: the item it opened (or was linked to)",
        ),
    ] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="The year the item was opened in")
    ] = None,
) -> dict[str, Any]:
    """Equalities on indexed fields only (a department key is held to its unit by `LISTING`)."""
    found: dict[str, Any] = {}
    if source_event_id is not None:
        found["source_event_ids"] = source_event_id
    for name, value in (("kind", kind), ("status", status), ("level", level), ("unit", unit)):
        if value is not None:
            found[name] = str(value)
    if year is not None:
        found["opened_year"] = year
    return found


Filters = Annotated[dict[str, Any], Depends(filters)]


def router() -> APIRouter:
    api = APIRouter(tags=["items"])

    @api.get(
        "/v1/items",
        summary="Supervision items 督办事项, newest first, in cursor pages",
        description="Supervisor and operator keys list every unit's items; a department key "
        "lists its own unit's. Filters are exact: `source_event_id` finds the item a trigger "
        "event opened. " + BOUND,
        responses=documented(paged=True),
        dependencies=[Depends(strict_query(*ITEM_FILTERS, "limit", "cursor"))],
    )
    async def list_items(
        who: Caller,
        found: Filters,
        page: PageQuery,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        return await LISTING.page(rt.db, who, found, page)

    @api.get(
        "/v1/items.csv",
        summary="Supervision items as CSV (UTF-8 with BOM, opens in spreadsheet programs)",
        description="The items `GET /v1/items` lists with the same filters, all of them. "
        "A cell a spreadsheet would run as a formula is written as text. " + BOUND,
        response_class=StreamingResponse,
        responses=documented(media=("text/csv",)),
        dependencies=[Depends(strict_query(*ITEM_FILTERS))],
    )
    async def items_csv(
        who: Caller, found: Filters, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> StreamingResponse:
        return LISTING.csv(rt.db, who, found, columns=CSV_FIELDS, filename="items.csv")

    api.include_router(
        document_router(
            path="/v1/items",
            collection=ITEMS,
            id_name="item_id",
            tag="items",
            summary="A supervision item 督办事项: its kind, unit, level, escalation and history",
            scope=SCOPE,
            timelines=[Timeline("history", ITEM_HISTORY, "item_id", terms=TERMS)],
            terms=TERMS,
        )
    )
    return api
