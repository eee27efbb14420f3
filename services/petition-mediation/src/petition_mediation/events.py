"""The event types petition-mediation 矛盾纠纷调处 owns (`fazhi.contracts.mediation`), bound to
its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.mediation import CONTRACT
from petition_mediation.store import CASES

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        name: Binding(
            CASES,
            creates=name == "mediation.case.filed",
            # The respondent unit reports carrying out the decision; the worker checks it is
            # that unit (or the case's owner).
            any_unit=name == "mediation.decision.executed",
        )
        for name in CONTRACT.types
    },
)
