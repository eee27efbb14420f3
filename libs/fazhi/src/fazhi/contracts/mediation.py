"""The contract of `mediation.events`, owned by petition-mediation 矛盾纠纷调处: dispute cases of
five types, every step of their lifecycles, their statutory clocks passing, and the decisions
published and carried out."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.models import PERSONAL, Applicant, Id, LongText, Payload, ShortText, UnitCode
from fazhi.topology import PETITION_MEDIATION


class CaseType(Term):
    """The five kinds of dispute the service handles, each under its own law and clocks."""

    PETITION = "petition", "信访"
    MEDIATION = "mediation", "行政调解"
    ADJUDICATION = "adjudication", "行政裁决"
    RECONSIDERATION = "reconsideration", "行政复议"
    LITIGATION = "litigation", "行政应诉"


class Procedure(Term):
    """行政复议法 art. 36: a case is heard under the ordinary or the simplified procedure
    (一般程序, the older wording, is taken for 普通程序)."""

    GENERAL = "general", "普通程序", "一般程序"
    SIMPLIFIED = "simplified", "简易程序"


class SimplifiedGround(Term):
    """行政复议法 art. 53: when the simplified procedure may apply."""

    ON_THE_SPOT = "on_the_spot", "当场作出"
    WARNING_OR_CRITICISM = "warning_or_criticism", "警告或者通报批评"
    AMOUNT_UP_TO_3000 = "amount_up_to_3000", "款额三千元以下"
    OPEN_GOVERNMENT = "open_government", "政府信息公开案件"
    PARTIES_AGREE = "parties_agree", "当事人各方同意"


class Outcome(Term):
    """行政复议决定 types, arts. 63-69, and the mediation agreement of art. 73."""

    CHANGED = "changed", "变更"  # art. 63
    REVOKED = "revoked", "撤销"  # art. 64
    CONFIRMED_ILLEGAL = "confirmed_illegal", "确认违法"  # art. 65
    ORDERED_TO_PERFORM = "ordered_to_perform", "责令履行"  # art. 66
    CONFIRMED_INVALID = "confirmed_invalid", "确认无效"  # art. 67
    UPHELD = "upheld", "维持"  # art. 68
    DISMISSED = "dismissed", "驳回"  # art. 69
    MEDIATED = "mediated", "调解书", "行政复议调解书"  # art. 73

    @property
    def binds_respondent(self) -> bool:
        """Whether the respondent unit has something to carry out (履行, art. 77)."""
        return self not in (Outcome.UPHELD, Outcome.DISMISSED)


class ClockName(Term):
    """The statutory clocks a case may carry, named by the step they time."""

    ACCEPTANCE = "acceptance", "受理期限"
    HANDLING = "handling", "办理期限"
    REVIEW = "review", "复查复核期限"
    DECISION = "decision", "决定期限"
    EXECUTION = "execution", "履行期限"
    DEFENCE = "defence", "答辩期限"
    REPLY = "reply", "建议回复期限"


class CaseFiled(Payload):
    case_id: Id
    case_type: CaseType
    category: Annotated[ShortText, PERSONAL]
    applicant: Annotated[Applicant, PERSONAL]
    respondent_unit: UnitCode
    summary: Annotated[LongText, PERSONAL]
    filed_at: AwareDatetime


class CaseAccepted(Payload):
    case_id: Id
    accepted_at: AwareDatetime
    procedure: Procedure = Procedure.GENERAL
    simplified_ground: SimplifiedGround | None = None
    """行政复议法 art. 53: why a reconsideration may take the simplified procedure."""


class CaseDecided(Payload):
    case_id: Id
    decision: Annotated[ShortText, PERSONAL]
    decided_at: AwareDatetime
    document_text: Annotated[LongText, PERSONAL]
    outcome: Outcome | None = None
    """The decision type of a reconsideration (行政复议法 arts. 63-73)."""


class CaseOverdue(Payload):
    """A statutory clock of a case passed its due date; `unit` is the unit that must act."""

    case_id: Id
    case_type: CaseType
    clock: ClockName
    unit: UnitCode
    due_date: date
    days_overdue: int = Field(ge=1)


class DecisionPublished(Payload):
    """A reconsideration decision as the public may read it (决定书网上公开, art. 79): its text
    redacted with the case's known parties, so no name, ID number, phone or address."""

    case_id: Id
    case_type: CaseType
    category: ShortText
    outcome: Outcome
    respondent_unit: UnitCode
    decided_at: AwareDatetime
    title: ShortText
    text: LongText


class DecisionExecuted(Payload):
    """The respondent unit carried out a reconsideration decision (履行, art. 77)."""

    case_id: Id
    executed_at: AwareDatetime
    note: Annotated[LongText, PERSONAL] = ""


CONTRACT = TopicContract.of(
    PETITION_MEDIATION,
    "Cases of petition-mediation 矛盾纠纷调处: petitions 信访, mediation 行政调解, adjudication "
    "行政裁决, reconsideration 行政复议 and litigation 行政应诉.",
    [
        EventContract(
            "mediation.case.filed",
            CaseFiled,
            "case_id",
            "A case is filed; the applicant's personal data stays with the owning service.",
        ),
        EventContract(
            "mediation.case.accepted",
            CaseAccepted,
            "case_id",
            "A case is accepted (受理), under the ordinary or simplified procedure.",
        ),
        EventContract(
            "mediation.case.decided",
            CaseDecided,
            "case_id",
            "A case is decided: a petition's handling, review or re-review opinion, a mediation "
            "agreement, an adjudication or reconsideration decision, a court's judgment.",
        ),
        EventContract(
            "mediation.case.overdue",
            CaseOverdue,
            "case_id",
            "A statutory clock of a case passed its due date (once per case, clock and due date).",
            derived=True,
        ),
        EventContract(
            "mediation.decision.published",
            DecisionPublished,
            "case_id",
            "A reconsideration decision, redacted, for publication (决定书网上公开).",
            derived=True,
        ),
        EventContract(
            "mediation.decision.executed",
            DecisionExecuted,
            "case_id",
            "The respondent unit carried out a reconsideration decision (履行); posted by that "
            "unit, which does not own the case.",
        ),
    ],
)
