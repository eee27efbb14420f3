"""The event types open-government 政务公开 owns (`fazhi.contracts.opengov`), bound to its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.opengov import CONTRACT
from open_government.store import DECISIONS, DOCUMENTS, REQUESTS

_REQUEST_STEPS = (
    "correction_requested",
    "corrected",
    "abandoned",
    "consultation_started",
    "consultation_ended",
    "extended",
    "answered",
    "overdue",
)

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        "opengov.request.received": Binding(REQUESTS, creates=True),
        **{f"opengov.request.{step}": Binding(REQUESTS) for step in _REQUEST_STEPS},
        "opengov.decision.listed": Binding(DECISIONS, creates=True),
        "opengov.decision.withdrawn": Binding(DECISIONS),
        "opengov.decision.step_recorded": Binding(DECISIONS),
        "opengov.decision.adopted": Binding(DECISIONS, creates=True),
        "opengov.decision.evaluated": Binding(DECISIONS),
        "opengov.document.published": Binding(DOCUMENTS, creates=True),
        "opengov.document.reviewed": Binding(DOCUMENTS),
        "opengov.document.validity_changed": Binding(DOCUMENTS),
    },
)
