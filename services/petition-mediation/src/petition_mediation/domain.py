"""Dispute-resolution cases and their statutory clocks: petitions 信访, administrative mediation
行政调解, adjudication 行政裁决, reconsideration 行政复议 and litigation response 行政应诉. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar, cast

from fazhi.clocks import Clock, ClockError, ClockStatus, get_rule, start_clock
from fazhi.statemachine import Machine, action_name


class CaseType(StrEnum):
    PETITION = "petition"
    MEDIATION = "mediation"
    ADJUDICATION = "adjudication"
    RECONSIDERATION = "reconsideration"
    LITIGATION = "litigation"


class Procedure(StrEnum):
    GENERAL = "general"  # 普通程序
    SIMPLIFIED = "simplified"  # 简易程序


class SimplifiedGround(StrEnum):
    """行政复议法 art. 53: when the simplified procedure may apply."""

    ON_THE_SPOT = "on_the_spot"  # 当场作出
    WARNING_OR_CRITICISM = "warning_or_criticism"  # 警告或者通报批评
    AMOUNT_UP_TO_3000 = "amount_up_to_3000"  # 款额三千元以下
    OPEN_GOVERNMENT = "open_government"  # 政府信息公开案件
    PARTIES_AGREE = "parties_agree"  # 当事人各方同意


class Outcome(StrEnum):
    """行政复议决定 types, arts. 63-69 and 73."""

    CHANGED = "changed"  # 变更 art. 63
    REVOKED = "revoked"  # 撤销 art. 64
    CONFIRMED_ILLEGAL = "confirmed_illegal"  # 确认违法 art. 65
    ORDERED_TO_PERFORM = "ordered_to_perform"  # 责令履行 art. 66
    CONFIRMED_INVALID = "confirmed_invalid"  # 确认无效 art. 67
    UPHELD = "upheld"  # 维持 art. 68
    DISMISSED = "dismissed"  # 驳回 art. 69
    MEDIATED = "mediated"  # 调解书 art. 73

    @property
    def binds_respondent(self) -> bool:
        """Whether the respondent unit has something to carry out (履行, art. 77)."""
        return self not in (Outcome.UPHELD, Outcome.DISMISSED)


class Channel(StrEnum):
    """三调联动: the three mediation channels a dispute can move between."""

    ADMINISTRATIVE = "administrative"  # 行政调解
    PEOPLES = "peoples"  # 人民调解
    JUDICIAL = "judicial"  # 司法调解


class RecommendationKind(StrEnum):
    JUDICIAL = "judicial"  # 司法建议
    PROCURATORIAL = "procuratorial"  # 检察建议


# Commands. One command type may serve several case types; each machine says which it takes.


@dataclass(frozen=True)
class Accept:
    on: date
    procedure: Procedure = Procedure.GENERAL
    simplified_ground: SimplifiedGround | None = None


@dataclass(frozen=True)
class DeemAccepted:
    """行政复议法 art. 30(3): the review period ended without a refusal."""

    on: date


@dataclass(frozen=True)
class NotAccept:
    on: date
    reason: str


@dataclass(frozen=True)
class RequestCorrection:
    on: date


@dataclass(frozen=True)
class ReceiveCorrection:
    on: date


@dataclass(frozen=True)
class Withdraw:
    """The applicant withdraws (art. 74), or is deemed to by not correcting in time (art. 31)."""

    on: date
    reason: str


@dataclass(frozen=True)
class Extend:
    on: date
    approved_by: str
    reason: str


@dataclass(frozen=True)
class ConvertToGeneral:
    """行政复议法 art. 55: a simplified case moves to the general procedure, with approval."""

    on: date
    approved_by: str


@dataclass(frozen=True)
class Suspend:
    """行政复议中止 (art. 39): the decision period stops until the cause is removed."""

    on: date
    reason: str


@dataclass(frozen=True)
class Resume:
    on: date


@dataclass(frozen=True)
class IssueOpinion:
    """A petition's written handling, review or re-review opinion (处理/复查/复核意见)."""

    on: date
    opinion: str


@dataclass(frozen=True)
class RequestReview:
    """The petitioner asks the next level up for review (复查) or re-review (复核)."""

    on: date
    reply_received_on: date
    to_unit: str


@dataclass(frozen=True)
class OpenHearing:
    on: date


@dataclass(frozen=True)
class CloseHearing:
    on: date


@dataclass(frozen=True)
class Decide:
    on: date
    decision: str
    outcome: Outcome | None = None


@dataclass(frozen=True)
class RecordExecution:
    on: date
    evidence: str


@dataclass(frozen=True)
class Close:
    on: date
    reason: str


@dataclass(frozen=True)
class StartMediation:
    on: date


@dataclass(frozen=True)
class Refer:
    on: date
    to: Channel
    body: str


@dataclass(frozen=True)
class RecordAgreement:
    on: date
    agreement: str


@dataclass(frozen=True)
class RecordFailure:
    on: date
    reason: str


@dataclass(frozen=True)
class FileDefence:
    on: date


@dataclass(frozen=True)
class RecordHearing:
    on: date
    head_appeared: bool


@dataclass(frozen=True)
class RecordJudgment:
    on: date
    judgment: str


@dataclass(frozen=True)
class ReceiveRecommendation:
    on: date
    recommendation_id: str
    kind: RecommendationKind
    text: str


@dataclass(frozen=True)
class AnswerRecommendation:
    on: date
    recommendation_id: str
    answer: str


Action = (
    Accept
    | DeemAccepted
    | NotAccept
    | RequestCorrection
    | ReceiveCorrection
    | Withdraw
    | Extend
    | ConvertToGeneral
    | Suspend
    | Resume
    | IssueOpinion
    | RequestReview
    | OpenHearing
    | CloseHearing
    | Decide
    | RecordExecution
    | Close
    | StartMediation
    | Refer
    | RecordAgreement
    | RecordFailure
    | FileDefence
    | RecordHearing
    | RecordJudgment
    | ReceiveRecommendation
    | AnswerRecommendation
)


@dataclass(frozen=True)
class Step:
    """One line of a case's history; `due_on` is the due date of the clock the step stopped."""

    action: str
    on: date
    state: str
    note: str = ""
    due_on: date | None = None

    @property
    def late(self) -> bool:
        return self.due_on is not None and self.on > self.due_on


class _Clocked:
    clock: Clock | None

    @property
    def due_on(self) -> date | None:
        return self.clock.due_on if self.clock is not None else None

    def overdue(self, on: date) -> bool:
        return self.clock is not None and self.clock.status(on) is ClockStatus.OVERDUE

    def days_overdue(self, on: date) -> int:
        return self.clock.days_overdue(on) if self.clock is not None else 0


# --- petition 信访 (信访工作条例 2022) -------------------------------------------------------


class PetitionState(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    HANDLED = "handled"
    REVIEW_REQUESTED = "review_requested"
    REVIEWED = "reviewed"
    REREVIEW_REQUESTED = "rereview_requested"
    REREVIEW_HEARING = "rereview_hearing"
    CLOSED = "closed"


@dataclass(frozen=True)
class PetitionCase(_Clocked):
    case_id: str
    filed_on: date
    state: PetitionState = PetitionState.FILED
    clock: Clock | None = None
    stage_ended_on: date | None = None
    history: tuple[Step, ...] = ()


def file_petition(case_id: str, filed_on: date) -> PetitionCase:
    """Art. 23: the petitioner is told in writing within 15 days whether it is accepted."""
    return PetitionCase(case_id, filed_on, clock=start_clock("petition.acceptance", filed_on))


PETITIONS = Machine[PetitionState](
    "petition case",
    {
        PetitionState.FILED: {Accept, NotAccept},
        PetitionState.ACCEPTED: {Extend, IssueOpinion},
        PetitionState.HANDLED: {RequestReview, Close},
        PetitionState.REVIEW_REQUESTED: {IssueOpinion},
        PetitionState.REVIEWED: {RequestReview, Close},
        PetitionState.REREVIEW_REQUESTED: {OpenHearing, IssueOpinion},
        PetitionState.REREVIEW_HEARING: {CloseHearing},
    },
)

_NEXT_LEVEL = {
    PetitionState.HANDLED: (PetitionState.REVIEW_REQUESTED, "petition.review"),
    PetitionState.REVIEWED: (PetitionState.REREVIEW_REQUESTED, "petition.rereview"),
}
_OPINION_NEXT = {
    PetitionState.ACCEPTED: PetitionState.HANDLED,
    PetitionState.REVIEW_REQUESTED: PetitionState.REVIEWED,
    # Art. 36(3): a re-review opinion is final; the same claim is not accepted again.
    PetitionState.REREVIEW_REQUESTED: PetitionState.CLOSED,
}


def _petition(case: PetitionCase, action: Action) -> PetitionCase:
    m, s = PETITIONS, case.state
    match action:
        case Accept(on=on, procedure=procedure):
            _general_only(m, s, action, procedure)
            # Art. 34: 60 days from acceptance for a 31(6) matter.
            return _step(case, action, PetitionState.ACCEPTED, start_clock("petition.handling", on))
        case NotAccept(on=on, reason=reason):
            return _step(case, action, PetitionState.NOT_ACCEPTED, None, reason)
        case Extend(on=on, approved_by=by, reason=reason):
            _approved(m, s, action, by)
            clock = _clocked(m, s, action, lambda: _running(case).extend(on=on))
            return _step(case, action, s, clock, f"{reason} (approved by {by})", keep=True)
        case IssueOpinion(on=on, opinion=opinion):
            stage = _OPINION_NEXT[s]
            return replace(_step(case, action, stage, None, opinion), stage_ended_on=on)
        case RequestReview(on=on, reply_received_on=received, to_unit=unit):
            stage, rule = _NEXT_LEVEL[s]
            # Arts. 35-36: the petitioner has 30 days from receiving the written reply, the same
            # period (and the same rest-day rule) as the organ's own 30 days, so one rule serves.
            assert case.stage_ended_on is not None
            if received < case.stage_ended_on:
                m.refuse(
                    s, action, f"a reply issued on {case.stage_ended_on} was not received before"
                )
            if on < received:
                m.refuse(
                    s, action, f"requested on {on}, before the reply was received on {received}"
                )
            window_end = start_clock(rule, received).due_on
            if on > window_end:
                m.refuse(s, action, f"the 30-day window from {received} ended on {window_end}")
            return _step(case, action, stage, start_clock(rule, on), f"to {unit}")
        case OpenHearing(on=on):
            # Art. 36(2): hearing time does not count toward the re-review period.
            clock = _clocked(m, s, action, lambda: _running(case).pause(on=on))
            return _step(case, action, PetitionState.REREVIEW_HEARING, clock, keep=True)
        case CloseHearing(on=on):
            clock = _clocked(m, s, action, lambda: _running(case).resume(on=on))
            return _step(case, action, PetitionState.REREVIEW_REQUESTED, clock, keep=True)
        case Close(reason=reason):
            return _step(case, action, PetitionState.CLOSED, None, reason)
    return m.refuse(s, action)  # pragma: no cover - the machine table admits nothing else


def review_window_ends(case: PetitionCase) -> date | None:
    """Last day the petitioner may ask for review (handled) or re-review (reviewed), counted
    from the opinion's date; the service closes the case after it if nothing came."""
    if case.state in _NEXT_LEVEL and case.stage_ended_on is not None:
        return start_clock(_NEXT_LEVEL[case.state][1], case.stage_ended_on).due_on
    return None


# --- administrative mediation 行政调解 -------------------------------------------------------


class MediationState(StrEnum):
    FILED = "filed"
    MEDIATING = "mediating"
    REFERRED = "referred"
    AGREED = "agreed"
    FAILED = "failed"


@dataclass(frozen=True)
class Referral:
    on: date
    from_channel: Channel
    to_channel: Channel
    body: str


@dataclass(frozen=True)
class MediationCase(_Clocked):
    """No statutory period in our laws: no clock. A referral keeps the case id and thread."""

    case_id: str
    filed_on: date
    state: MediationState = MediationState.FILED
    channel: Channel = Channel.ADMINISTRATIVE
    referrals: tuple[Referral, ...] = ()
    agreement: str = ""
    clock: Clock | None = None
    history: tuple[Step, ...] = ()


def file_mediation(case_id: str, filed_on: date) -> MediationCase:
    return MediationCase(case_id, filed_on)


MEDIATIONS = Machine[MediationState](
    "mediation case",
    {
        MediationState.FILED: {StartMediation, Refer, RecordFailure},
        MediationState.MEDIATING: {Refer, RecordAgreement, RecordFailure},
        MediationState.REFERRED: {StartMediation, RecordFailure},
        # A failed mediation may still be handed to another channel (三调联动).
        MediationState.FAILED: {Refer},
    },
)


def _mediation(case: MediationCase, action: Action) -> MediationCase:
    m, s = MEDIATIONS, case.state
    match action:
        case StartMediation():
            return _step(case, action, MediationState.MEDIATING, None, case.channel)
        case Refer(on=on, to=to, body=body):
            if to is case.channel:
                m.refuse(s, action, f"the case is already in {to} mediation")
            referral = Referral(on, case.channel, to, body)
            moved = replace(case, channel=to, referrals=(*case.referrals, referral))
            return _step(
                moved, action, MediationState.REFERRED, None, f"{case.channel} → {to}: {body}"
            )
        case RecordAgreement(agreement=agreement):
            if not agreement.strip():
                m.refuse(s, action, "an agreement (调解协议) needs its terms")
            agreed = replace(case, agreement=agreement)
            return _step(agreed, action, MediationState.AGREED, None)
        case RecordFailure(reason=reason):
            return _step(case, action, MediationState.FAILED, None, reason)
    return m.refuse(s, action)  # pragma: no cover


# --- administrative adjudication 行政裁决 ----------------------------------------------------


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


# --- administrative reconsideration 行政复议 (行政复议法 2023) -----------------------------


class ReconsiderationState(StrEnum):
    ACCEPTANCE_REVIEW = "acceptance_review"
    CORRECTION_REQUESTED = "correction_requested"
    ACCEPTED = "accepted"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"
    EXECUTED = "executed"
    CLOSED = "closed"


_DECISION_RULES = {
    Procedure.GENERAL: "reconsideration.decision.general",
    Procedure.SIMPLIFIED: "reconsideration.decision.simplified",
}


@dataclass(frozen=True)
class ReconsiderationCase(_Clocked):
    case_id: str
    filed_on: date
    state: ReconsiderationState = ReconsiderationState.ACCEPTANCE_REVIEW
    clock: Clock | None = None
    correction_requested: bool = False
    procedure: Procedure | None = None
    simplified_ground: SimplifiedGround | None = None
    accepted_on: date | None = None
    outcome: Outcome | None = None
    decision: str = ""
    history: tuple[Step, ...] = ()


def file_reconsideration(case_id: str, filed_on: date) -> ReconsiderationCase:
    """Art. 30: the acceptance review (5 working days) starts on receipt."""
    clock = start_clock("reconsideration.acceptance", filed_on)
    return ReconsiderationCase(case_id, filed_on, clock=clock)


_OPEN = {Withdraw}
RECONSIDERATIONS = Machine[ReconsiderationState](
    "reconsideration case",
    {
        ReconsiderationState.ACCEPTANCE_REVIEW: {
            Accept,
            DeemAccepted,
            NotAccept,
            RequestCorrection,
            *_OPEN,
        },
        ReconsiderationState.CORRECTION_REQUESTED: {ReceiveCorrection, *_OPEN},
        ReconsiderationState.ACCEPTED: {Extend, ConvertToGeneral, Suspend, Decide, *_OPEN},
        ReconsiderationState.SUSPENDED: {Resume, *_OPEN},
        ReconsiderationState.DECIDED: {RecordExecution, Close},
        ReconsiderationState.EXECUTED: {Close},
    },
)


def _reconsideration(case: ReconsiderationCase, action: Action) -> ReconsiderationCase:
    m, s = RECONSIDERATIONS, case.state
    match action:
        case Accept(on=on, procedure=procedure, simplified_ground=ground):
            _within_review(case, action, on)
            if (procedure is Procedure.SIMPLIFIED) != (ground is not None):
                m.refuse(
                    s, action, "the simplified procedure, and only it, needs an art. 53 ground"
                )
            return _accept(case, action, on, procedure, ground, "")
        case DeemAccepted(on=on):
            assert case.clock is not None
            due = case.clock.due_on
            if on <= due:
                m.refuse(s, action, f"the acceptance review runs until {due}")
            return _accept(case, action, due, Procedure.GENERAL, None, f"deemed accepted on {due}")
        case NotAccept(on=on, reason=reason):
            _within_review(case, action, on)
            return _step(case, action, ReconsiderationState.REJECTED, None, reason)
        case RequestCorrection(on=on):
            # Art. 31: one notice, within 5 working days of receipt, listing everything.
            if case.correction_requested:
                m.refuse(s, action, "a correction notice is given once (一次性告知)")
            due = start_clock("reconsideration.correction", case.filed_on).due_on
            if on > due:
                m.refuse(s, action, f"the correction notice was due by {due}")
            asked = replace(case, correction_requested=True)
            return _step(asked, action, ReconsiderationState.CORRECTION_REQUESTED, None)
        case ReceiveCorrection(on=on):
            # Art. 31(3): the corrected application is examined afresh under art. 30.
            clock = start_clock("reconsideration.acceptance", on)
            return _step(case, action, ReconsiderationState.ACCEPTANCE_REVIEW, clock)
        case Withdraw(reason=reason):
            return _step(case, action, ReconsiderationState.WITHDRAWN, None, reason)
        case Extend(on=on, approved_by=by, reason=reason):
            if case.procedure is Procedure.SIMPLIFIED:
                m.refuse(s, action, "the simplified procedure's 30 days cannot be extended")
            _approved(m, s, action, by)
            clock = _clocked(m, s, action, lambda: _running(case).extend(on=on))
            return _step(case, action, s, clock, f"{reason} (approved by {by})", keep=True)
        case ConvertToGeneral(approved_by=by):
            if case.procedure is not Procedure.SIMPLIFIED:
                m.refuse(s, action, "the case already follows the general procedure")
            # Art. 62(1): the general procedure's 60 days run from acceptance, not conversion.
            assert case.accepted_on is not None
            clock = start_clock(_DECISION_RULES[Procedure.GENERAL], case.accepted_on)
            _approved(m, s, action, by)
            converted = replace(case, procedure=Procedure.GENERAL, simplified_ground=None)
            return _step(converted, action, s, clock, f"approved by {by}", keep=True)
        case Suspend(on=on, reason=reason):
            clock = _clocked(m, s, action, lambda: _running(case).pause(on=on))
            return _step(case, action, ReconsiderationState.SUSPENDED, clock, reason, keep=True)
        case Resume(on=on):
            clock = _clocked(m, s, action, lambda: _running(case).resume(on=on))
            return _step(case, action, ReconsiderationState.ACCEPTED, clock, keep=True)
        case Decide(decision=decision, outcome=outcome):
            if outcome is None:
                m.refuse(s, action, "a reconsideration decision names its outcome (arts. 63-73)")
            decided = replace(case, outcome=outcome, decision=decision)
            return _step(decided, action, ReconsiderationState.DECIDED, None, outcome)
        case RecordExecution(evidence=evidence):
            assert case.outcome is not None
            if not case.outcome.binds_respondent:
                m.refuse(
                    s, action, f"a {case.outcome} decision leaves the respondent nothing to do"
                )
            return _step(case, action, ReconsiderationState.EXECUTED, None, evidence)
        case Close(reason=reason):
            if s is ReconsiderationState.DECIDED:
                assert case.outcome is not None
                if case.outcome.binds_respondent:
                    m.refuse(
                        s,
                        action,
                        f"the respondent must first carry out the {case.outcome} decision (履行, art. 77)",
                    )
            return _step(case, action, ReconsiderationState.CLOSED, None, reason)
    return m.refuse(s, action)  # pragma: no cover


def _within_review(case: ReconsiderationCase, action: Action, on: date) -> None:
    assert case.clock is not None
    due = case.clock.due_on
    if on > due:
        RECONSIDERATIONS.refuse(
            case.state, action, f"the review ended on {due}: the application is deemed accepted"
        )


def _accept(
    case: ReconsiderationCase,
    action: Action,
    accepted_on: date,
    procedure: Procedure,
    ground: SimplifiedGround | None,
    note: str,
) -> ReconsiderationCase:
    rule = _DECISION_RULES[procedure]
    clock = start_clock(rule, accepted_on)
    accepted = replace(case, procedure=procedure, simplified_ground=ground, accepted_on=accepted_on)
    return _step(accepted, action, ReconsiderationState.ACCEPTED, clock, note or procedure)


# --- litigation response 行政应诉 (行政诉讼法 2017) -------------------------------------------


class LitigationState(StrEnum):
    SERVED = "served"
    DEFENCE_FILED = "defence_filed"
    HEARINGS = "hearings"
    JUDGMENT = "judgment"
    CLOSED = "closed"


@dataclass(frozen=True)
class Recommendation:
    recommendation_id: str
    kind: RecommendationKind
    received_on: date
    text: str
    answered_on: date | None = None
    answer: str = ""


@dataclass(frozen=True)
class Hearing:
    on: date
    head_appeared: bool  # 负责人出庭应诉


@dataclass(frozen=True)
class LitigationCase(_Clocked):
    case_id: str
    served_on: date
    state: LitigationState = LitigationState.SERVED
    clock: Clock | None = None
    hearings: tuple[Hearing, ...] = ()
    judgment: str = ""
    recommendations: tuple[Recommendation, ...] = ()
    history: tuple[Step, ...] = ()

    @property
    def open_recommendations(self) -> tuple[Recommendation, ...]:
        return tuple(r for r in self.recommendations if r.answered_on is None)


def file_litigation(case_id: str, served_on: date) -> LitigationCase:
    """Art. 67: the defence and evidence are due 15 days after the complaint is served."""
    return LitigationCase(case_id, served_on, clock=start_clock("litigation.defence", served_on))


_ANY_TIME = {ReceiveRecommendation, AnswerRecommendation}
LITIGATIONS = Machine[LitigationState](
    "litigation case",
    {
        # Art. 67(2): a missing defence does not stop the court, so a hearing may come first.
        LitigationState.SERVED: {FileDefence, RecordHearing, *_ANY_TIME},
        LitigationState.DEFENCE_FILED: {RecordHearing, RecordJudgment, *_ANY_TIME},
        LitigationState.HEARINGS: {RecordHearing, RecordJudgment, *_ANY_TIME},
        LitigationState.JUDGMENT: {Close, *_ANY_TIME},
    },
)


def _litigation(case: LitigationCase, action: Action) -> LitigationCase:
    m, s = LITIGATIONS, case.state
    match action:
        case FileDefence():
            return _step(case, action, LitigationState.DEFENCE_FILED, None)
        case RecordHearing(on=on, head_appeared=head):
            heard = replace(case, hearings=(*case.hearings, Hearing(on, head)))
            note = "head appeared in court" if head else "head absent"
            return _step(heard, action, LitigationState.HEARINGS, None, note)
        case RecordJudgment(judgment=judgment):
            judged = replace(case, judgment=judgment)
            return _step(judged, action, LitigationState.JUDGMENT, None, judgment)
        case ReceiveRecommendation(on=on, recommendation_id=rid, kind=kind, text=text):
            if any(r.recommendation_id == rid for r in case.recommendations):
                m.refuse(s, action, f"recommendation {rid} is already recorded")
            added = Recommendation(rid, kind, on, text)
            received = replace(case, recommendations=(*case.recommendations, added))
            return _step(received, action, s, case.clock, f"{kind} {rid}", keep=True)
        case AnswerRecommendation(on=on, recommendation_id=rid, answer=answer):
            if rid not in {r.recommendation_id for r in case.open_recommendations}:
                m.refuse(s, action, f"no open recommendation {rid}")
            recs = tuple(
                replace(r, answered_on=on, answer=answer) if r.recommendation_id == rid else r
                for r in case.recommendations
            )
            answered = replace(case, recommendations=recs)
            return _step(answered, action, s, case.clock, rid, keep=True)
        case Close(reason=reason):
            pending = [r.recommendation_id for r in case.open_recommendations]
            if pending:
                m.refuse(s, action, f"recommendations still unanswered: {', '.join(pending)}")
            return _step(case, action, LitigationState.CLOSED, None, reason)
    return m.refuse(s, action)  # pragma: no cover


# --- one entry point -----------------------------------------------------------------------

Case = PetitionCase | MediationCase | AdjudicationCase | ReconsiderationCase | LitigationCase
C = TypeVar("C", bound=Case)

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


# --- helpers -------------------------------------------------------------------------------

S = TypeVar("S", bound=str)


def _general_only(m: Machine[S], state: S, action: Action, procedure: Procedure) -> None:
    if procedure is not Procedure.GENERAL:
        m.refuse(state, action, "only reconsideration has a simplified procedure")


def _approved(m: Machine[S], state: S, action: Action, by: str) -> None:
    if not by.strip():
        m.refuse(state, action, "needs the approving head's name")


def _running(case: _Clocked) -> Clock:
    assert case.clock is not None, "the machine admits clock operations only while one runs"
    return case.clock


def _clocked(m: Machine[S], state: S, action: Action, op: Callable[[], Clock]) -> Clock:
    """Run a clock operation; what the clock refuses (a date before its last event, a second
    extension, a period already over) the case refuses too, with the clock's reason."""
    try:
        return op()
    except ClockError as e:
        m.refuse(state, action, str(e))


def _step(
    case: C,
    action: Action,
    state: StrEnum,
    clock: Clock | None,
    note: str = "",
    *,
    keep: bool = False,
) -> C:
    """Move to `state` with `clock` as the running clock. Unless `keep`, the previous clock
    stops here and its due date is written into the history."""
    stopped = None if keep or case.clock is None else case.clock.due_on
    step = Step(action_name(action), action.on, state, note, stopped)
    # Each machine hands `_step` only its own case's states.
    return replace(case, state=state, clock=clock, history=(*case.history, step))  # type: ignore[arg-type]
