"""The event types open-government 政务公开 owns (`fazhi.contracts.opengov`), bound to its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.opengov import CONTRACT
from open_government.store import DECISIONS, DOCUMENTS, REQUESTS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        "opengov.request.received": Binding(REQUESTS, creates=True),
        "opengov.request.answered": Binding(REQUESTS),
        "opengov.request.overdue": Binding(REQUESTS),
        "opengov.decision.adopted": Binding(DECISIONS, creates=True),
        "opengov.decision.evaluated": Binding(DECISIONS),
        "opengov.document.published": Binding(DOCUMENTS, creates=True),
    },
)
