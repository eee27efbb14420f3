"""The event types open-government 政务公开 owns (`fazhi.contracts.opengov`), bound to its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.opengov import CONTRACT
from open_government.store import DOCUMENTS, REQUESTS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        "opengov.request.received": Binding(REQUESTS, creates=True),
        "opengov.request.answered": Binding(REQUESTS),
        "opengov.document.published": Binding(DOCUMENTS, creates=True),
    },
)
