"""`GET /v1/events/{event_id}`: the receipt of an event, for the unit that posted it."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from fazhi.contracts.envelope import ID_PATTERN
from fazhi.contracts.envelope import SOURCE_PATTERN as SOURCE
from fazhi.receipts.rules import receipt
from fazhi.receipts.writer import ACCEPTED
from fazhi.roles import Role
from fazhi.store.catalog import EventCatalog
from fazhi.store.projection import LEDGER
from fazhi.web.problems import Problem
from fazhi.web.service import Caller, ServiceRuntime, runtime

SOURCE_PATTERN = SOURCE.pattern
READ_SCOPE = (
    "any key of the unit that posted it (its `source`), operator keys with `?source=`; "
    "any other key: 404"
)


def receipts_router(catalog: EventCatalog) -> APIRouter:
    """`GET /v1/events/{event_id}`: the receipt of an event the key's unit posted to this
    service (operators: of any unit's, with `?source=`)."""
    router = APIRouter(tags=["events"])

    @router.get(
        "/v1/events/{event_id}",
        summary="The receipt of an event: accepted, applied, refused or duplicate",
        description=f"Who reads it: {READ_SCOPE}, exactly as for an unknown id. Operator keys "
        "look up another unit's event with `?source=/units/<code>`.",
        openapi_extra={"x-fazhi-read-scope": READ_SCOPE},
        responses={
            401: {"description": "Missing or unknown API key"},
            404: {"description": "No such event of this unit (yet), or not this key's to read"},
            422: {"description": "An event id or a source not of its pattern"},
        },
    )
    async def get_receipt(
        who: Caller,
        event_id: Annotated[str, Path(pattern=ID_PATTERN, description="The event's `id`")],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        source: Annotated[
            str | None,
            Query(
                pattern=SOURCE_PATTERN,
                description="Operators: the unit that posted it (default the key's own)",
            ),
        ] = None,
    ) -> dict[str, Any]:
        own = f"/units/{who.unit}"
        wanted = source or own
        found = None
        if wanted == own or who.has(Role.OPERATOR):
            key = f"{wanted} {event_id}"
            entry, posted = await asyncio.gather(
                rt.db[LEDGER].find_one({"_id": key}), rt.db[ACCEPTED].find_one({"_id": key})
            )
            if rt.receipts is not None:
                posted = rt.receipts.pending(key) or posted
            found = receipt(entry, posted, topic=catalog.topic)
        if found is None:
            raise Problem(
                404, f"No event {event_id!r} of {wanted} is known here yet.", kind="not-found"
            )
        return found

    return router
