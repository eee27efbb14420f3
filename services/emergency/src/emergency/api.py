"""Emergency api (`uvicorn emergency.api:create_app --factory`): collects its features' routers."""

from __future__ import annotations

from fastapi import FastAPI

from emergency import alerts, console, incidents, notices, registries
from emergency.config import Settings
from emergency.events import CATALOG
from emergency.store import ensure_indexes
from fazhi.bus import Publisher
from fazhi.web import create_service_app


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi emergency 突发事件应对",
        description="Incidents, response levels and alerts (CAP semantics) posted by emergency units.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            incidents.views.router(),
            alerts.views.router(CATALOG.topic),
            notices.views.router(),
            registries.views.router(),
            console.views.router(),
        ],
        ensure_indexes=ensure_indexes,
    )
