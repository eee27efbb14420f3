"""Petition-mediation api (`uvicorn petition_mediation.api:create_app --factory`): collects its
features' routers."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.bus import Publisher
from fazhi.web import create_service_app
from petition_mediation import cases, matters
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG
from petition_mediation.store import ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi petition-mediation 矛盾纠纷调处",
        description="Petitions, mediation, adjudication, reconsideration and litigation cases.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[*cases.views.routers(), matters.views.router()],
        ensure_indexes=ensure_indexes,
    )
