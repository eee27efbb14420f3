"""Event types owned by petition-mediation 矛盾纠纷调处 and their payloads."""

from __future__ import annotations

from pydantic import AwareDatetime

from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Applicant, Id, LongText, Payload, ShortText, UnitCode
from fazhi.topology import PETITION_MEDIATION
from petition_mediation.domain import CaseType, Outcome, Procedure, SimplifiedGround
from petition_mediation.store import CASES

TOPIC = PETITION_MEDIATION.topic


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
    procedure: Procedure = Procedure.GENERAL
    simplified_ground: SimplifiedGround | None = None
    """行政复议法 art. 53: why a reconsideration may take the simplified procedure."""


class CaseDecided(Payload):
    case_id: Id
    decision: ShortText
    decided_at: AwareDatetime
    document_text: LongText
    outcome: Outcome | None = None
    """The decision type of a reconsideration (行政复议法 arts. 63-73)."""


CATALOG = EventCatalog.of(
    "petition_mediation",
    TOPIC,
    [
        EventType("mediation.case.filed", CaseFiled, "case_id", CASES, creates=True),
        EventType("mediation.case.accepted", CaseAccepted, "case_id", CASES),
        EventType("mediation.case.decided", CaseDecided, "case_id", CASES),
    ],
)
