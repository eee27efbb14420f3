"""The contract of `mediation.events`, owned by petition-mediation 矛盾纠纷调处: dispute cases of
five types, every step of their lifecycles, their statutory clocks passing, and the decisions
published and carried out."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.contracts.models import PERSONAL, Applicant, Id, LongText, Payload, ShortText, UnitCode
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


class Channel(Term):
    """三调联动: the three mediation channels a dispute moves between, keeping one thread."""

    ADMINISTRATIVE = "administrative", "行政调解"
    PEOPLES = "peoples", "人民调解"
    JUDICIAL = "judicial", "司法调解"


class RecommendationKind(Term):
    """行政诉讼法 arts. 25(4), 93, 96(4): recommendations a unit must answer."""

    JUDICIAL = "judicial", "司法建议"
    PROCURATORIAL = "procuratorial", "检察建议"


class ReviewLevel(Term):
    """信访工作条例 arts. 35-36: what a petitioner may ask the next level for after a written
    reply: review (复查) of a handling opinion, re-review (复核) of a review opinion."""

    REVIEW = "review", "复查"
    REREVIEW = "rereview", "复核"


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


class CaseNotAccepted(Payload):
    """Not accepted (不予受理), with the reason the applicant is told."""

    case_id: Id
    decided_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL]


class CorrectionRequested(Payload):
    """行政复议法 art. 31: the applicant is told, once, what to correct (补正)."""

    case_id: Id
    requested_at: AwareDatetime


class CaseCorrected(Payload):
    """The corrected application arrived: the acceptance review starts again."""

    case_id: Id
    received_at: AwareDatetime


class CaseExtended(Payload):
    """The running period is extended once, as its rule allows, with the head's approval."""

    case_id: Id
    extended_at: AwareDatetime
    approved_by: Annotated[ShortText, PERSONAL]
    reason: Annotated[ShortText, PERSONAL]


class ProcedureConverted(Payload):
    """行政复议法 art. 55: a simplified case moves to the general procedure."""

    case_id: Id
    converted_at: AwareDatetime
    approved_by: Annotated[ShortText, PERSONAL]


class CaseSuspended(Payload):
    """行政复议中止 (art. 39): the decision period stops."""

    case_id: Id
    suspended_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL]


class CaseResumed(Payload):
    case_id: Id
    resumed_at: AwareDatetime


class HearingOpened(Payload):
    """A hearing (听证) opens: a petition re-review's period stops meanwhile (信访工作条例
    art. 36); an adjudication is heard before it is decided."""

    case_id: Id
    opened_at: AwareDatetime


class HearingClosed(Payload):
    case_id: Id
    closed_at: AwareDatetime


class ReviewRequested(Payload):
    """A petitioner asks the next level for review (复查) or re-review (复核), within 30 days
    of receiving the written reply."""

    case_id: Id
    requested_at: AwareDatetime
    reply_received_at: AwareDatetime
    to_unit: ShortText


class CaseReferred(Payload):
    """三调联动: the dispute moves to another mediation channel; the case keeps its id and
    its timeline across the hand-off."""

    case_id: Id
    referred_at: AwareDatetime
    to_channel: Channel
    body: ShortText
    """The receiving body (a people's mediation committee, a court)."""


class MediationFailed(Payload):
    case_id: Id
    failed_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL]


class DefenceFiled(Payload):
    """行政诉讼法 art. 67: the defendant unit files its defence and evidence."""

    case_id: Id
    defence_filed_at: AwareDatetime


class HearingHeld(Payload):
    """A court hearing, and whether the head of the unit appeared (负责人出庭应诉, art. 3)."""

    case_id: Id
    held_at: AwareDatetime
    head_appeared: bool


class RecommendationReceived(Payload):
    case_id: Id
    recommendation_id: Id
    kind: RecommendationKind
    text: Annotated[LongText, PERSONAL]
    received_at: AwareDatetime


class RecommendationAnswered(Payload):
    case_id: Id
    recommendation_id: Id
    answer: Annotated[LongText, PERSONAL]
    answered_at: AwareDatetime


class CaseWithdrawn(Payload):
    case_id: Id
    withdrawn_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL]


class CaseClosed(Payload):
    case_id: Id
    closed_at: AwareDatetime
    reason: Annotated[ShortText, PERSONAL]


class CaseOverdue(Payload):
    """A statutory clock of a case passed its due date; `unit` is the unit that must act."""

    case_id: Id
    case_type: CaseType
    clock: ClockName
    unit: UnitCode
    due_date: date
    days_overdue: int = Field(ge=1)


class CaseDueSoon(Payload):
    """A statutory clock of a case is about to pass (临期提醒): `days_left` calendar days before
    its due date (0: due today); `unit` is the unit that must act. Once per case, clock and due
    date."""

    case_id: Id
    case_type: CaseType
    clock: ClockName
    unit: UnitCode
    due_date: date
    days_left: int = Field(ge=0)


class CaseDeemedAccepted(Payload):
    """行政复议法 art. 30(3): the acceptance review (five working days, arts. 30(1), 88) ended
    without a decision not to accept, so the application is accepted as of its last day, and the
    decision period runs from that day."""

    case_id: Id
    review_ended_on: date
    """The last day of the acceptance review."""


class CaseClosedUnreviewed(Payload):
    """信访工作条例 arts. 35-36: the petitioner asked for no review (复查) of the handling opinion,
    or no re-review (复核) of the review opinion, within the 30 days allowed; the petition is
    closed. The window is counted from the opinion's date (its receipt is not reported)."""

    case_id: Id
    not_requested: ReviewLevel
    window_ended_on: date
    """The last day the request could have been made."""


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


class AdjudicableMatter(Payload):
    name: ShortText
    """The kind of dispute, e.g. 自然资源权属争议."""
    basis: ShortText
    """The law or regulation giving the unit the power to adjudicate it (法律依据)."""


class MattersPublished(Payload):
    """Measure 十七: a unit's list of adjudicable matters (行政裁决事项清单), published or revised
    as a whole; open-government puts it on the portal."""

    list_id: Id
    unit: UnitCode
    title: ShortText
    matters: list[AdjudicableMatter] = Field(min_length=1, max_length=200)
    published_at: AwareDatetime


def _step(name: str, model: type[Payload], summary: str) -> EventContract:
    return EventContract(f"mediation.case.{name}", model, "case_id", summary)


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
        _step("not_accepted", CaseNotAccepted, "A case is not accepted (不予受理)."),
        _step(
            "correction_requested",
            CorrectionRequested,
            "A reconsideration applicant is asked to correct the application (补正).",
        ),
        _step(
            "corrected",
            CaseCorrected,
            "The corrected application arrived; the acceptance review starts again.",
        ),
        _step("extended", CaseExtended, "The running period is extended with approval (延长)."),
        _step(
            "procedure_converted",
            ProcedureConverted,
            "A simplified reconsideration moves to the general procedure.",
        ),
        _step("suspended", CaseSuspended, "A reconsideration is suspended (中止)."),
        _step("resumed", CaseResumed, "A suspended reconsideration resumes (恢复)."),
        _step("hearing_opened", HearingOpened, "A hearing (听证) opens."),
        _step("hearing_closed", HearingClosed, "A hearing (听证) closes."),
        _step(
            "review_requested",
            ReviewRequested,
            "A petitioner asks for review (复查) or re-review (复核).",
        ),
        _step(
            "referred",
            CaseReferred,
            "A dispute is referred to another mediation channel (三调联动).",
        ),
        _step("failed", MediationFailed, "A mediation fails (调解不成)."),
        _step("defence_filed", DefenceFiled, "The defence and evidence are filed (答辩)."),
        _step(
            "hearing_held",
            HearingHeld,
            "A court hearing is held, with whether the unit's head appeared (出庭应诉).",
        ),
        _step(
            "recommendation_received",
            RecommendationReceived,
            "A judicial or procuratorial recommendation arrives; its reply is due.",
        ),
        _step(
            "recommendation_answered",
            RecommendationAnswered,
            "A recommendation is answered (回复).",
        ),
        _step("withdrawn", CaseWithdrawn, "The applicant withdraws (撤回)."),
        _step("closed", CaseClosed, "A case is closed (结案)."),
        EventContract(
            "mediation.matters.published",
            MattersPublished,
            "list_id",
            "A unit publishes (or revises) its list of adjudicable matters (行政裁决事项清单).",
        ),
        EventContract(
            "mediation.case.overdue",
            CaseOverdue,
            "case_id",
            "A statutory clock of a case passed its due date (once per case, clock and due date).",
            derived=True,
        ),
        EventContract(
            "mediation.case.due_soon",
            CaseDueSoon,
            "case_id",
            "A statutory clock of a case is about to pass: its acting unit is reminded a few "
            "days before the due date (once per case, clock and due date).",
            derived=True,
        ),
        EventContract(
            "mediation.case.deemed_accepted",
            CaseDeemedAccepted,
            "case_id",
            "A reconsideration's acceptance review ended without a decision: the application "
            "is deemed accepted as of its last day (视为受理); once per case and review period.",
            derived=True,
        ),
        EventContract(
            "mediation.case.closed_unreviewed",
            CaseClosedUnreviewed,
            "case_id",
            "A petition is closed: no review (复查) or re-review (复核) was asked within 30 days "
            "of the opinion; once per case and window.",
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
