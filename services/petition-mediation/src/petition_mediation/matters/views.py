"""`GET /v1/matters/{list_id}`: a unit's published list of adjudicable matters, read by any key."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.web import Scope, document_router
from petition_mediation.store import MATTERS


def router() -> APIRouter:
    return document_router(
        path="/v1/matters",
        collection=MATTERS,
        id_name="list_id",
        tag="matters",
        summary="A unit's published list of adjudicable matters (行政裁决事项清单)",
        scope=Scope(owners="the publishing unit", public=True),
    )
