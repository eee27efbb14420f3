"""Administrative reconsideration 行政复议 (行政复议法 2023): acceptance review, general and
simplified procedures, suspension, decision and its execution."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.contracts.mediation import Outcome, Procedure, SimplifiedGround
from fazhi.rules import Clock, Machine, Step, start_clock
from petition_mediation.domain.commands import (
    Accept,
    Action,
    Close,
    ConvertToGeneral,
    Decide,
    DeemAccepted,
    Extend,
    NotAccept,
    ReceiveCorrection,
    RecordExecution,
    RequestCorrection,
    Resume,
    Suspend,
    Withdraw,
)
from petition_mediation.domain.common import _approved, _Clocked, _clocked, _running, _step


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


def acceptance_review_ends(case: ReconsiderationCase) -> date | None:
    """The last day of the acceptance review while it runs; the application is deemed accepted
    after it (`DeemAccepted`, art. 30(3))."""
    if case.state is ReconsiderationState.ACCEPTANCE_REVIEW and case.clock is not None:
        return case.clock.due_on
    return None


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
