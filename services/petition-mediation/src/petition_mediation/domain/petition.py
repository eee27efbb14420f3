"""Petition 信访 (信访工作条例 2022): acceptance, handling, review 复查 and re-review 复核."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.contracts.mediation import ReviewLevel
from fazhi.rules import Clock, Machine, Step, start_clock
from petition_mediation.domain.commands import (
    Accept,
    Action,
    Close,
    CloseHearing,
    CloseUnreviewed,
    Extend,
    IssueOpinion,
    NotAccept,
    OpenHearing,
    RequestReview,
)
from petition_mediation.domain.common import (
    _approved,
    _Clocked,
    _clocked,
    _general_only,
    _running,
    _step,
)


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
        PetitionState.HANDLED: {RequestReview, Close, CloseUnreviewed},
        PetitionState.REVIEW_REQUESTED: {IssueOpinion},
        PetitionState.REVIEWED: {RequestReview, Close, CloseUnreviewed},
        PetitionState.REREVIEW_REQUESTED: {OpenHearing, IssueOpinion},
        PetitionState.REREVIEW_HEARING: {CloseHearing},
    },
)

_NEXT_LEVEL = {
    PetitionState.HANDLED: (PetitionState.REVIEW_REQUESTED, "petition.review", ReviewLevel.REVIEW),
    PetitionState.REVIEWED: (
        PetitionState.REREVIEW_REQUESTED,
        "petition.rereview",
        ReviewLevel.REREVIEW,
    ),
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
            stage, rule, _ = _NEXT_LEVEL[s]
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
        case CloseUnreviewed(on=on, window_ended_on=ended):
            window = review_window(case)
            assert window is not None, "the machine admits it only after an opinion"
            level, ends = window
            if ended != ends:
                m.refuse(s, action, f"the {level} window ends on {ends}, not {ended}")
            if on <= ends:
                m.refuse(s, action, f"the {level} window runs until {ends}")
            return _step(case, action, PetitionState.CLOSED, None, f"期满未请求{level.label_zh}")
    return m.refuse(s, action)  # pragma: no cover - the machine table admits nothing else


def review_window(case: PetitionCase) -> tuple[ReviewLevel, date] | None:
    """What the petitioner may ask for next, review (handled) or re-review (reviewed), and the
    last day to ask, counted from the opinion's date; the case closes after it if nothing came
    (`CloseUnreviewed`)."""
    if case.state in _NEXT_LEVEL and case.stage_ended_on is not None:
        _, rule, level = _NEXT_LEVEL[case.state]
        return level, start_clock(rule, case.stage_ended_on).due_on
    return None


def review_window_ends(case: PetitionCase) -> date | None:
    window = review_window(case)
    return window[1] if window is not None else None
