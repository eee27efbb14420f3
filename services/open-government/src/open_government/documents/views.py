"""`GET /v1/documents/{document_id}`: a published document."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.web import Scope, Timeline, document_router
from open_government.store import DOCUMENT_HISTORY, DOCUMENTS


def router() -> APIRouter:
    return document_router(
        path="/v1/documents",
        collection=DOCUMENTS,
        id_name="document_id",
        tag="documents",
        summary="A published document",
        # Published: the portal shows it to everyone.
        scope=Scope(owners="the publishing unit", public=True),
        hidden=("tokens",),
        timelines=[Timeline("history", DOCUMENT_HISTORY, "document_id")],
    )
