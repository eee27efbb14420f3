"""Petition-mediation api (`uvicorn petition_mediation.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.app import Scope, Timeline, create_service_app, document_router
from fazhi.contracts.mediation import CaseType, Outcome, Procedure
from fazhi.publisher import Publisher
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG
from petition_mediation.store import CASE_HISTORY, CASES, PRIVATE, ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi petition-mediation 矛盾纠纷调处",
        description="Petitions, mediation, adjudication, reconsideration and litigation cases.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            document_router(
                path="/v1/cases",
                collection=CASES,
                id_name="case_id",
                tag="cases",
                summary="A case, its state, its running clock and its history",
                scope=Scope(owners="the filing unit", parties=("respondent_unit",)),
                hidden=(PRIVATE, "case"),
                timelines=[Timeline("history", CASE_HISTORY, "case_id")],
                terms={"case_type": CaseType, "procedure": Procedure, "outcome": Outcome},
            ),
        ],
        ensure_indexes=ensure_indexes,
    )
