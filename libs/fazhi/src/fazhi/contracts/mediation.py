"""The contract of `mediation.events`, owned by petition-mediation 矛盾纠纷调处: dispute cases of
five types filed, accepted and decided."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime

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
            "mediation.case.decided", CaseDecided, "case_id", "A case is decided (决定)."
        ),
    ],
)
