"""`GET /v1/decisions/{decision_id}`: a major decision, public once catalogued."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.web import Scope, Timeline, document_router
from open_government.store import DECISION_HISTORY, DECISIONS


def router() -> APIRouter:
    return document_router(
        path="/v1/decisions",
        collection=DECISIONS,
        id_name="decision_id",
        tag="decisions",
        summary="A major administrative decision, its procedure and its execution",
        # The catalogue is published: the portal shows it to everyone.
        scope=Scope(owners="the unit that catalogued it", public=True),
        timelines=[Timeline("history", DECISION_HISTORY, "decision_id")],
    )
