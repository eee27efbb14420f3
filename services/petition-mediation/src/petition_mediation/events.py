"""Event types owned by petition-mediation 矛盾纠纷调处 and their payloads."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Applicant, Id, LongText, Payload, ShortText, UnitCode

TOPIC = "mediation.events"

CaseType = Literal["petition", "mediation", "adjudication", "reconsideration", "litigation"]


class CaseFiled(Payload):
    case_id: Id
    case_type: CaseType
    category: ShortText
    applicant: Applicant
    respondent_unit: UnitCode
    summary: LongText
    filed_at: AwareDatetime


class CaseAccepted(Payload):
    case_id: Id
    accepted_at: AwareDatetime
    procedure: Literal["general", "simplified"] = "general"


class CaseDecided(Payload):
    case_id: Id
    decision: ShortText
    decided_at: AwareDatetime
    document_text: LongText


CATALOG = EventCatalog.of(
    "petition_mediation",
    TOPIC,
    [
        EventType("mediation.case.filed", CaseFiled),
        EventType("mediation.case.accepted", CaseAccepted),
        EventType("mediation.case.decided", CaseDecided),
    ],
)
