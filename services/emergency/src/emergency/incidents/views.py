"""`GET /v1/incidents/{incident_id}`: an incident with its response levels."""

from __future__ import annotations

from fastapi import APIRouter

from emergency.store import INCIDENT_LEVELS, INCIDENTS, PRIVATE
from fazhi.app import Scope, Timeline, document_router
from fazhi.contracts.emergency import Grade, ResponseLevel
from fazhi.roles import Role


def router() -> APIRouter:
    return document_router(
        path="/v1/incidents",
        collection=INCIDENTS,
        id_name="incident_id",
        tag="incidents",
        summary="An incident as reported and responded to, with its response levels",
        scope=Scope(owners="the reporting unit", roles=frozenset({Role.STAFF})),
        hidden=(PRIVATE,),
        timelines=[
            Timeline(
                "level_history", INCIDENT_LEVELS, "incident_id", terms={"level": ResponseLevel}
            )
        ],
        terms={"grade": Grade, "response_level": ResponseLevel},
    )
