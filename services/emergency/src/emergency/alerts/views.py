"""`GET /v1/alerts/{alert_id}`: an alert with its acknowledgements."""

from __future__ import annotations

from fastapi import APIRouter

from emergency.store import ACKNOWLEDGEMENTS, ALERTS
from fazhi.app import Scope, Timeline, document_router
from fazhi.contracts.emergency import AlertLevel, CapStatus, MsgType
from fazhi.roles import Role


def router() -> APIRouter:
    return document_router(
        path="/v1/alerts",
        collection=ALERTS,
        id_name="alert_id",
        tag="alerts",
        summary="An alert, its state and acknowledgements",
        scope=Scope(owners="the issuing unit", roles=frozenset({Role.STAFF})),
        timelines=[Timeline("acknowledgements", ACKNOWLEDGEMENTS, "alert_id")],
        terms={"msg_type": MsgType, "cap_status": CapStatus, "level": AlertLevel},
    )
