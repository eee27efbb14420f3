"""The event types petition-mediation 矛盾纠纷调处 owns (`fazhi.contracts.mediation`), bound to
its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.mediation import CONTRACT
from petition_mediation.store import CASES

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        "mediation.case.filed": Binding(CASES, creates=True),
        "mediation.case.accepted": Binding(CASES),
        "mediation.case.decided": Binding(CASES),
    },
)
