"""Petition-mediation api (`uvicorn petition_mediation.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.app import Scope, Timeline, create_service_app, document_router
from fazhi.contracts.mediation import CaseType, Channel, Outcome, Procedure
from fazhi.publisher import Publisher
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG
from petition_mediation.reads import HIDDEN, SCOPE, cases_router, render_case
from petition_mediation.store import CASE_HISTORY, CASES, MATTERS, ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi petition-mediation 矛盾纠纷调处",
        description="Petitions, mediation, adjudication, reconsideration and litigation cases.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            cases_router(),
            document_router(
                path="/v1/cases",
                collection=CASES,
                id_name="case_id",
                tag="cases",
                summary="A case, its state, its clocks (worked out on today's calendar, each "
                "with its explanation) and its history",
                scope=SCOPE,
                hidden=HIDDEN,
                timelines=[Timeline("history", CASE_HISTORY, "case_id")],
                terms={
                    "case_type": CaseType,
                    "procedure": Procedure,
                    "outcome": Outcome,
                    "channel": Channel,
                },
                render=render_case,
            ),
            document_router(
                path="/v1/matters",
                collection=MATTERS,
                id_name="list_id",
                tag="matters",
                summary="A unit's published list of adjudicable matters (行政裁决事项清单)",
                scope=Scope(owners="the publishing unit", public=True),
            ),
        ],
        ensure_indexes=ensure_indexes,
    )
