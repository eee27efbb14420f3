"""What each case event asks of the case's machine: the one table from payload class to domain
command, from which the worker's reactions follow; and the machine a filing starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.mediation import (
    CaseAccepted,
    CaseClosed,
    CaseClosedUnreviewed,
    CaseCorrected,
    CaseDecided,
    CaseDeemedAccepted,
    CaseExtended,
    CaseNotAccepted,
    CaseReferred,
    CaseResumed,
    CaseSuspended,
    CaseType,
    CaseWithdrawn,
    CorrectionRequested,
    DecisionExecuted,
    DefenceFiled,
    HearingClosed,
    HearingHeld,
    HearingOpened,
    MediationFailed,
    ProcedureConverted,
    RecommendationAnswered,
    RecommendationReceived,
    ReviewRequested,
)
from fazhi.contracts.models import Payload
from petition_mediation.domain import (
    Accept,
    Action,
    AnswerRecommendation,
    Case,
    Close,
    CloseHearing,
    CloseUnreviewed,
    ConvertToGeneral,
    Decide,
    DeemAccepted,
    Extend,
    FileDefence,
    IssueOpinion,
    NotAccept,
    OpenHearing,
    ReceiveCorrection,
    ReceiveRecommendation,
    RecordAgreement,
    RecordExecution,
    RecordFailure,
    RecordHearing,
    RecordJudgment,
    Refer,
    RequestCorrection,
    RequestReview,
    Resume,
    StartMediation,
    Suspend,
    Withdraw,
    case_type,
    file_adjudication,
    file_litigation,
    file_mediation,
    file_petition,
    file_reconsideration,
)

P = TypeVar("P", bound=Payload)

FILE: dict[CaseType, Callable[[str, date], Case]] = {
    CaseType.PETITION: file_petition,
    CaseType.MEDIATION: file_mediation,
    CaseType.ADJUDICATION: file_adjudication,
    CaseType.RECONSIDERATION: file_reconsideration,
    CaseType.LITIGATION: file_litigation,  # `filed_at` is the day the complaint was served
}


def day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def after(last_day: date) -> date:
    """The first day a period that ended on `last_day` has passed."""
    return last_day + timedelta(days=1)


def _accept(data: CaseAccepted, kind: CaseType) -> Action:
    """Acceptance (受理), or for a mediation the start of mediating. A litigation case has no
    acceptance: its machine refuses."""
    on = day(data.accepted_at)
    if kind is CaseType.MEDIATION:
        return StartMediation(on)
    return Accept(on, data.procedure, data.simplified_ground)


def _decide(data: CaseDecided, kind: CaseType) -> Action:
    """A petition's handling opinion, a mediation agreement, an adjudication or reconsideration
    decision, a court's judgment."""
    on = day(data.decided_at)
    match kind:
        case CaseType.PETITION:
            return IssueOpinion(on, data.decision)
        case CaseType.MEDIATION:
            return RecordAgreement(on, data.decision)
        case CaseType.LITIGATION:
            return RecordJudgment(on, data.decision)
        case _:
            return Decide(on, data.decision, data.outcome)


@dataclass(frozen=True)
class StandsFor(Generic[P]):
    """The command an event with payload `payload` stands for on a case of a given type."""

    payload: type[P]
    command: Callable[[P, CaseType], Action]


COMMANDS: Mapping[type[Payload], StandsFor[Any]] = {
    entry.payload: entry
    for entry in (
        StandsFor(CaseAccepted, _accept),
        StandsFor(CaseNotAccepted, lambda e, _: NotAccept(day(e.decided_at), e.reason)),
        StandsFor(CorrectionRequested, lambda e, _: RequestCorrection(day(e.requested_at))),
        StandsFor(CaseCorrected, lambda e, _: ReceiveCorrection(day(e.received_at))),
        StandsFor(CaseExtended, lambda e, _: Extend(day(e.extended_at), e.approved_by, e.reason)),
        StandsFor(
            ProcedureConverted,
            lambda e, _: ConvertToGeneral(day(e.converted_at), e.approved_by),
        ),
        StandsFor(CaseSuspended, lambda e, _: Suspend(day(e.suspended_at), e.reason)),
        StandsFor(CaseResumed, lambda e, _: Resume(day(e.resumed_at))),
        StandsFor(HearingOpened, lambda e, _: OpenHearing(day(e.opened_at))),
        StandsFor(HearingClosed, lambda e, _: CloseHearing(day(e.closed_at))),
        StandsFor(
            ReviewRequested,
            lambda e, _: RequestReview(day(e.requested_at), day(e.reply_received_at), e.to_unit),
        ),
        StandsFor(CaseReferred, lambda e, _: Refer(day(e.referred_at), e.to_channel, e.body)),
        StandsFor(MediationFailed, lambda e, _: RecordFailure(day(e.failed_at), e.reason)),
        StandsFor(DefenceFiled, lambda e, _: FileDefence(day(e.defence_filed_at))),
        StandsFor(HearingHeld, lambda e, _: RecordHearing(day(e.held_at), e.head_appeared)),
        StandsFor(
            RecommendationReceived,
            lambda e, _: ReceiveRecommendation(
                day(e.received_at), e.recommendation_id, e.kind, e.text
            ),
        ),
        StandsFor(
            RecommendationAnswered,
            lambda e, _: AnswerRecommendation(day(e.answered_at), e.recommendation_id, e.answer),
        ),
        StandsFor(CaseDecided, _decide),
        StandsFor(DecisionExecuted, lambda e, _: RecordExecution(day(e.executed_at), e.note)),
        StandsFor(CaseWithdrawn, lambda e, _: Withdraw(day(e.withdrawn_at), e.reason)),
        StandsFor(CaseClosed, lambda e, _: Close(day(e.closed_at), e.reason)),
        # Derived by the worker's timers once a period passed with no step.
        StandsFor(CaseDeemedAccepted, lambda e, _: DeemAccepted(after(e.review_ended_on))),
        StandsFor(
            CaseClosedUnreviewed,
            lambda e, _: CloseUnreviewed(after(e.window_ended_on), e.window_ended_on),
        ),
    )
}


def command_of(data: Payload, case: Case) -> Action:
    """The command `data` (its free texts redacted by the caller) stands for on `case`'s machine."""
    return COMMANDS[type(data)].command(data, case_type(case))
