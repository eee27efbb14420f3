"""Emergency api (`uvicorn emergency.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from emergency.config import Settings
from emergency.events import CATALOG
from emergency.store import (
    ACKNOWLEDGEMENTS,
    ALERTS,
    INCIDENT_LEVELS,
    INCIDENTS,
    ensure_indexes,
)
from fazhi.app import Timeline, create_service_app, document_router
from fazhi.contracts.emergency import AlertLevel, CapStatus, Grade, MsgType, ResponseLevel
from fazhi.publisher import Publisher


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi emergency 突发事件应对",
        description="Incidents, response levels and alerts (CAP semantics) posted by emergency units.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            document_router(
                path="/v1/incidents",
                collection=INCIDENTS,
                id_name="incident_id",
                tag="incidents",
                summary="An incident as reported and responded to, with its response levels",
                timelines=[
                    Timeline(
                        "level_history",
                        INCIDENT_LEVELS,
                        "incident_id",
                        terms={"level": ResponseLevel},
                    )
                ],
                terms={"grade": Grade, "response_level": ResponseLevel},
            ),
            document_router(
                path="/v1/alerts",
                collection=ALERTS,
                id_name="alert_id",
                tag="alerts",
                summary="An alert, its state and acknowledgements",
                timelines=[Timeline("acknowledgements", ACKNOWLEDGEMENTS, "alert_id")],
                terms={"msg_type": MsgType, "cap_status": CapStatus, "level": AlertLevel},
            ),
        ],
        ensure_indexes=ensure_indexes,
    )
