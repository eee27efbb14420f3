"""Administrative adjudication 行政裁决: acceptance, optional hearing, decision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.rules import Clock, Machine, Step, get_rule, start_clock
from petition_mediation.domain.commands import (
    Accept,
    Action,
    Close,
    Decide,
    NotAccept,
    OpenHearing,
)
from petition_mediation.domain.common import _Clocked, _general_only, _step


class AdjudicationState(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    HEARING = "hearing"
    DECIDED = "decided"
    CLOSED = "closed"


@dataclass(frozen=True)
class AdjudicationCase(_Clocked):
    """No law in our folder sets an adjudication period; a unit may configure one by naming a
    clock rule (`decision_rule`), started on acceptance. None by default."""

    case_id: str
    filed_on: date
    decision_rule: str | None = None
    state: AdjudicationState = AdjudicationState.FILED
    clock: Clock | None = None
    decision: str = ""
    history: tuple[Step, ...] = ()


def file_adjudication(
    case_id: str, filed_on: date, decision_rule: str | None = None
) -> AdjudicationCase:
    if decision_rule is not None:
        get_rule(decision_rule)
    return AdjudicationCase(case_id, filed_on, decision_rule)


ADJUDICATIONS = Machine[AdjudicationState](
    "adjudication case",
    {
        AdjudicationState.FILED: {Accept, NotAccept},
        # A hearing is not always needed: a written examination may go straight to decision.
        AdjudicationState.ACCEPTED: {OpenHearing, Decide},
        AdjudicationState.HEARING: {Decide},
        AdjudicationState.DECIDED: {Close},
    },
)


def _adjudication(case: AdjudicationCase, action: Action) -> AdjudicationCase:
    m, s = ADJUDICATIONS, case.state
    match action:
        case Accept(on=on, procedure=procedure):
            _general_only(m, s, action, procedure)
            rule = case.decision_rule
            clock = start_clock(rule, on) if rule is not None else None
            return _step(case, action, AdjudicationState.ACCEPTED, clock)
        case NotAccept(reason=reason):
            return _step(case, action, AdjudicationState.NOT_ACCEPTED, None, reason)
        case OpenHearing():
            return _step(case, action, AdjudicationState.HEARING, case.clock, keep=True)
        case Decide(decision=decision):
            decided = replace(case, decision=decision)
            return _step(decided, action, AdjudicationState.DECIDED, None, decision)
        case Close(reason=reason):
            return _step(case, action, AdjudicationState.CLOSED, None, reason)
    return m.refuse(s, action)  # pragma: no cover
