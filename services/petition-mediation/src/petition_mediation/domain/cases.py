"""One entry point for every case type: `transition(case, action)` checks the move against the
case's machine and the date order of its history, then hands it to that type's rules."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from fazhi.contracts.mediation import CaseType
from fazhi.rules import Machine
from petition_mediation.domain.adjudication import ADJUDICATIONS, AdjudicationCase, _adjudication
from petition_mediation.domain.commands import Action
from petition_mediation.domain.common import C
from petition_mediation.domain.litigation import LITIGATIONS, LitigationCase, _litigation
from petition_mediation.domain.mediation import MEDIATIONS, MediationCase, _mediation
from petition_mediation.domain.petition import PETITIONS, PetitionCase, _petition
from petition_mediation.domain.reconsideration import (
    RECONSIDERATIONS,
    ReconsiderationCase,
    _reconsideration,
)

Case = PetitionCase | MediationCase | AdjudicationCase | ReconsiderationCase | LitigationCase

_KINDS: dict[type, tuple[CaseType, Machine[Any]]] = {
    PetitionCase: (CaseType.PETITION, PETITIONS),
    MediationCase: (CaseType.MEDIATION, MEDIATIONS),
    AdjudicationCase: (CaseType.ADJUDICATION, ADJUDICATIONS),
    ReconsiderationCase: (CaseType.RECONSIDERATION, RECONSIDERATIONS),
    LitigationCase: (CaseType.LITIGATION, LITIGATIONS),
}


def case_type(case: Case) -> CaseType:
    return _KINDS[type(case)][0]


def transition(case: C, action: Action) -> C:
    """Apply `action` to any case; an illegal move raises `IllegalTransition`. Steps are
    recorded in date order (one case's events arrive in order), so an action dated before the
    case's last step is refused."""
    machine = _KINDS[type(case)][1]
    machine.check(case.state, action)
    last = case.history[-1].on if case.history else _opened_on(case)
    if action.on < last:
        machine.refuse(case.state, action, f"dated {action.on}, before the last step on {last}")
    result: Case
    if isinstance(case, PetitionCase):
        result = _petition(case, action)
    elif isinstance(case, MediationCase):
        result = _mediation(case, action)
    elif isinstance(case, AdjudicationCase):
        result = _adjudication(case, action)
    elif isinstance(case, ReconsiderationCase):
        result = _reconsideration(case, action)
    else:
        result = _litigation(case, action)
    return cast(C, result)  # each case type moves within its own type


def _opened_on(case: Case) -> date:
    return case.served_on if isinstance(case, LitigationCase) else case.filed_on
