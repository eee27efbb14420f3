"""Open-government api (`uvicorn open_government.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.bus import Publisher
from fazhi.web import create_service_app
from open_government import decisions, documents, portal, requests
from open_government.config import Settings
from open_government.events import CATALOG
from open_government.search.projection import SearchProjection
from open_government.store import ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    settings = settings or Settings()
    search = SearchProjection(settings)
    app = create_service_app(
        title="Fazhi open-government 政务公开",
        description="Disclosure requests with statutory clocks, the publication registry, major "
        "decisions, and the public portal at `/` (its data as JSON under `/v1/`).",
        catalog=CATALOG,
        settings=settings,
        publisher=publisher,
        routers=[
            requests.views.router(),
            documents.views.router(),
            decisions.views.router(),
            portal.api.router(),
            portal.views.router(),
        ],
        ensure_indexes=ensure_indexes,
        components=[search],
    )
    app.state.search = search
    return app
