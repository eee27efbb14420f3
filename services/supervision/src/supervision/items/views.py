"""`GET /v1/items` (filtered, cursor pages), `GET /v1/items.csv` and `GET /v1/items/{item_id}`:
supervision items with their history."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from fazhi.app import Scope, Timeline, document_router
from fazhi.auth import Principal
from fazhi.contracts.supervision import Escalation, ItemKind, ItemLevel, ItemStatus
from fazhi.contracts.terms import with_labels
from fazhi.envelope import ID_PATTERN
from fazhi.models import UnitCode
from fazhi.pagination import PageParams, PageQuery, fetch_page
from fazhi.projection import INTERNAL_FIELDS
from fazhi.roles import Role
from fazhi.runtime import Caller, ServiceRuntime, runtime
from supervision.responses import documented, strict_query
from supervision.store import ITEM_HISTORY, ITEMS

ITEM_FILTERS = ("kind", "unit", "status", "level", "source_event_id")
TERMS = {"escalation": Escalation, "level": ItemLevel, "status": ItemStatus}
HIDDEN = {name: 0 for name in INTERNAL_FIELDS}
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


def item_filter(
    who: Principal,
    kind: ItemKind | None,
    unit: str | None,
    status: ItemStatus | None,
    level: ItemLevel | None,
    source_event_id: str | None,
) -> dict[str, Any]:
    """Equality on indexed fields only. A department key sees the items of its own unit."""
    found: dict[str, Any] = {}
    if source_event_id is not None:
        found["source_event_ids"] = source_event_id
    for name, value in (("kind", kind), ("status", status), ("level", level)):
        if value is not None:
            found[name] = str(value)
    if not who.has(Role.SUPERVISOR, Role.OPERATOR):
        found["unit"] = who.unit
    elif unit is not None:
        found["unit"] = unit
    return found


async def filters(
    who: Caller,
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
) -> dict[str, Any]:
    return item_filter(who, kind, unit, status, level, source_event_id)


Filters = Annotated[dict[str, Any], Depends(filters)]


def render(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["item_id"] = doc.pop("_id")
    return with_labels(doc, TERMS)


def router() -> APIRouter:
    api = APIRouter(tags=["items"])

    @api.get(
        "/v1/items",
        summary="Supervision items 督办事项, newest first, in cursor pages",
        description="Supervisor and operator keys list every unit's items; a department key "
        "lists its own unit's. Filters are exact: `source_event_id` finds the item a trigger "
        "event opened.",
        responses=documented(paged=True),
        dependencies=[Depends(strict_query(*ITEM_FILTERS, "limit", "cursor"))],
    )
    async def list_items(
        found: Filters,
        page: PageQuery,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        result = await fetch_page(
            rt.db[ITEMS], found, page, key="opened_at", descending=True, projection=HIDDEN
        )
        return result.body([render(doc) for doc in result.items])

    @api.get(
        "/v1/items.csv",
        summary="Supervision items as CSV (UTF-8 with BOM, opens in spreadsheet programs)",
        response_class=StreamingResponse,
        responses=documented(media=("text/csv",)),
        dependencies=[Depends(strict_query(*ITEM_FILTERS))],
    )
    async def items_csv(
        found: Filters, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> StreamingResponse:
        async def rows() -> AsyncIterator[str]:
            yield "\ufeff" + _csv_line(CSV_FIELDS)
            params = PageParams(limit=500)
            while True:
                result = await fetch_page(
                    rt.db[ITEMS], found, params, key="opened_at", descending=True
                )
                for doc in result.items:
                    item = render(doc)
                    yield _csv_line(tuple(_cell(item.get(f)) for f in CSV_FIELDS))
                if result.next is None:
                    return
                params = PageParams(limit=500, after=_after(result.items[-1]))

        return StreamingResponse(
            rows(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="items.csv"'},
        )

    api.include_router(
        document_router(
            path="/v1/items",
            collection=ITEMS,
            id_name="item_id",
            tag="items",
            summary="A supervision item 督办事项: its kind, unit, level, escalation and history",
            scope=Scope(owners="the unit under supervision", parties=("unit",)),
            timelines=[Timeline("history", ITEM_HISTORY, "item_id", terms=TERMS)],
            terms=TERMS,
        )
    )
    return api


def _after(doc: dict[str, Any]) -> tuple[Any, Any]:
    return doc.get("opened_at"), doc["_id"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _csv_line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()
