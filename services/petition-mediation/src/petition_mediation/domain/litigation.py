"""Litigation response 行政应诉 (行政诉讼法 2017): defence, hearings, judgment, and the judicial
and procuratorial recommendations that must be answered before the case closes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.rules import Clock, Machine, Step, start_clock
from petition_mediation.domain.commands import (
    Action,
    AnswerRecommendation,
    Close,
    FileDefence,
    ReceiveRecommendation,
    RecommendationKind,
    RecordHearing,
    RecordJudgment,
)
from petition_mediation.domain.common import _Clocked, _step


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
