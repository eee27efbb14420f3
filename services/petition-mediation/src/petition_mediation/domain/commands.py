"""The commands every case type is driven by, and the enums they carry. One vocabulary for all
five machines: each machine's table says which commands it takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The contract's terms are the machines' vocabulary too.
from fazhi.contracts.mediation import Channel as Channel
from fazhi.contracts.mediation import Outcome, Procedure, SimplifiedGround
from fazhi.contracts.mediation import RecommendationKind as RecommendationKind


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
class CloseUnreviewed:
    """信访工作条例 arts. 35-36: the window for review (复查) or re-review (复核) that ended on
    `window_ended_on` passed with no request."""

    on: date
    window_ended_on: date


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
    | CloseUnreviewed
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
