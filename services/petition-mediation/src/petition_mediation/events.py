"""The event types petition-mediation 矛盾纠纷调处 owns (`fazhi.contracts.mediation`), bound to
its store."""

from __future__ import annotations

from fazhi.contracts.mediation import CONTRACT
from fazhi.store import Binding, EventCatalog
from petition_mediation.store import CASES, MATTERS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        name: Binding(
            MATTERS if name == "mediation.matters.published" else CASES,
            creates=name in ("mediation.case.filed", "mediation.matters.published"),
            # The respondent unit reports carrying out the decision; the worker checks it is
            # that unit (or the case's owner).
            any_unit=name == "mediation.decision.executed",
        )
        for name in CONTRACT.types
    },
)
