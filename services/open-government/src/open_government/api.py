"""Open-government api (`uvicorn open_government.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.app import create_service_app, document_router
from fazhi.contracts.opengov import AnswerType, Channel
from fazhi.publisher import Publisher
from open_government.config import Settings
from open_government.events import CATALOG
from open_government.store import DOCUMENTS, PRIVATE, REQUESTS, ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi open-government 政务公开",
        description="Disclosure requests with statutory clocks and published government documents.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            document_router(
                path="/v1/requests",
                collection=REQUESTS,
                id_name="request_id",
                tag="requests",
                summary="A disclosure request, its state and its reply due date",
                hidden=(PRIVATE, "request"),
                terms={"channel": Channel, "answer_type": AnswerType},
            ),
            document_router(
                path="/v1/documents",
                collection=DOCUMENTS,
                id_name="document_id",
                tag="documents",
                summary="A published document",
                hidden=("tokens",),
            ),
        ],
        ensure_indexes=ensure_indexes,
    )
