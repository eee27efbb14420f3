"""Cases as stored: a case's rules-state (state, running clock, dates, fields) kept as a
sub-document by `fazhi.store.codec`, read back into the same domain object. The history keeps only its
last step: the domain needs no more (a step may not be dated before it), and the whole history
is a timeline of its own."""

from __future__ import annotations

import dataclasses
from typing import Any

from fazhi.store import decode, encode
from petition_mediation.domain import (
    AdjudicationCase,
    Case,
    CaseType,
    LitigationCase,
    MediationCase,
    PetitionCase,
    ReconsiderationCase,
)

CLASSES: dict[CaseType, type[Case]] = {
    CaseType.PETITION: PetitionCase,
    CaseType.MEDIATION: MediationCase,
    CaseType.ADJUDICATION: AdjudicationCase,
    CaseType.RECONSIDERATION: ReconsiderationCase,
    CaseType.LITIGATION: LitigationCase,
}


def encode_case(case: Case) -> dict[str, Any]:
    encoded: dict[str, Any] = encode(dataclasses.replace(case, history=case.history[-1:]))
    return encoded


def decode_case(case_type: CaseType, raw: dict[str, Any]) -> Case:
    return decode(CLASSES[case_type], raw)
