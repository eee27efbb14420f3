"""`GET /v1/items/{item_id}`: a supervision item with its history."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.app import Scope, Timeline, document_router
from supervision.store import ITEM_HISTORY, ITEMS


def router() -> APIRouter:
    return document_router(
        path="/v1/items",
        collection=ITEMS,
        id_name="item_id",
        tag="items",
        summary="A supervision item 督办事项: its kind, unit, level on the ladder and history",
        # The unit under supervision reads its items, as does the unit whose event opened one.
        scope=Scope(owners="the unit whose event opened it", parties=("unit",)),
        timelines=[Timeline("history", ITEM_HISTORY, "item_id")],
    )
