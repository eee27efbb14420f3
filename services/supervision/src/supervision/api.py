"""Supervision api (`uvicorn supervision.api:create_app --factory`): collects the routers of its
features."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus import Publisher
from fazhi.web import create_service_app
from supervision import items, live, reports, tasks
from supervision.config import Settings
from supervision.deliveries import store as delivery_store
from supervision.deliveries import views as delivery_views
from supervision.events import CATALOG
from supervision.overview import start_metrics_refresh
from supervision.store import ensure_indexes


async def indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_indexes(db)
    await delivery_store.ensure_indexes(db)


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi supervision 督查督办",
        description="Tracks the plan's measures and tasks and the supervision items opened on "
        "whatever falls behind; departments post progress, rectification and training events.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            tasks.views.router(),
            items.views.router(),
            reports.router(),
            live.router(),
            delivery_views.router(),
        ],
        ensure_indexes=indexes,
        on_startup=[start_metrics_refresh],
    )
