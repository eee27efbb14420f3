"""Disclosure requests 依申请公开 and their reply clock (政府信息公开条例 2019 arts. 30-37).
Pure: dates are passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.contracts.opengov import AnswerType, Channel, Consultee
from fazhi.rules import Clock, ClockError, ClockStatus, Machine, Step, action_name, start_clock

_CONSULTATION_RULES = {
    Consultee.THIRD_PARTY: "disclosure.third_party",
    Consultee.AGENCY: "disclosure.agency_consultation",
}


class RequestState(StrEnum):
    """Where a request stands; `label_zh` is what the public tracking page says."""

    RECEIVED = "received"
    CORRECTION_REQUESTED = "correction_requested"
    CONSULTING_THIRD_PARTY = "consulting_third_party"
    EXTENDED = "extended"
    ANSWERED = "answered"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class RequestCorrection:
    """Art. 30: one notice, within 7 working days of receipt, listing everything to correct."""

    on: date
    items: str


@dataclass(frozen=True)
class ReceiveCorrection:
    on: date


@dataclass(frozen=True)
class Abandon:
    """Art. 30: no correction in time without good reason, so the request is deemed abandoned."""

    on: date


@dataclass(frozen=True)
class ConsultThirdParty:
    on: date
    kind: Consultee = Consultee.THIRD_PARTY


@dataclass(frozen=True)
class EndConsultation:
    """The reply arrived, or the 15 working days lapsed (`agrees` None): the clock resumes."""

    on: date
    agrees: bool | None


@dataclass(frozen=True)
class Extend:
    """Art. 33(2): up to 20 more working days, approved by the head of the disclosure office."""

    on: date
    approved_by: str


@dataclass(frozen=True)
class Answer:
    on: date
    answer_type: AnswerType
    reason: str = ""
    responsible_agency: str = ""


Action = (
    RequestCorrection
    | ReceiveCorrection
    | Abandon
    | ConsultThirdParty
    | EndConsultation
    | Extend
    | Answer
)


@dataclass(frozen=True)
class DisclosureRequest:
    """The reply clock (20 working days) runs from receipt; it pauses for a consultation and
    for a correction notice, restarts when the corrected request arrives, and is kept after the
    answer so that `clock_status` tells whether the answer was on time."""

    request_id: str
    channel: Channel
    received_on: date
    clock: Clock
    state: RequestState = RequestState.RECEIVED
    correction_requested: bool = False
    extension_approved_by: str | None = None
    consultation_clock: Clock | None = None
    answer_type: AnswerType | None = None
    answered_on: date | None = None
    history: tuple[Step, ...] = ()

    @property
    def due_on(self) -> date:
        return self.clock.due_on

    def clock_status(self, on: date) -> ClockStatus:
        return self.clock.status(on, met_on=self.answered_on)

    def overdue(self, on: date) -> bool:
        return self.clock_status(on) is ClockStatus.OVERDUE


def receive_request(request_id: str, channel: Channel, received_on: date) -> DisclosureRequest:
    clock = start_clock("disclosure.reply", received_on)
    return DisclosureRequest(request_id, channel, received_on, clock)


REQUEST_LIFECYCLE = Machine[RequestState](
    "disclosure request",
    {
        RequestState.RECEIVED: {RequestCorrection, ConsultThirdParty, Extend, Answer},
        RequestState.CORRECTION_REQUESTED: {ReceiveCorrection, Abandon},
        RequestState.CONSULTING_THIRD_PARTY: {EndConsultation},
        RequestState.EXTENDED: {ConsultThirdParty, Answer},
    },
)


def transition(request: DisclosureRequest, action: Action) -> DisclosureRequest:
    """Apply `action`; an illegal move raises `IllegalTransition`. Steps come in date order."""
    m, s = REQUEST_LIFECYCLE, request.state
    m.check(s, action)
    last = request.history[-1].on if request.history else request.received_on
    if action.on < last:
        m.refuse(s, action, f"dated {action.on}, before the last step on {last}")

    def clocked(op: Callable[[], Clock]) -> Clock:
        try:
            return op()
        except ClockError as e:
            m.refuse(s, action, str(e))

    match action:
        case RequestCorrection(on=on, items=items):
            if request.correction_requested:
                m.refuse(s, action, "the correction notice is given once (一次性告知)")
            due = start_clock("disclosure.correction", request.received_on).due_on
            if on > due:
                m.refuse(s, action, f"the correction notice was due by {due}")
            clock = clocked(lambda: request.clock.pause(on=on))
            asked = replace(request, correction_requested=True)
            return _step(asked, action, RequestState.CORRECTION_REQUESTED, clock, items)
        case ReceiveCorrection(on=on):
            # Art. 30: the reply period counts from receipt of the corrected request.
            clock = clocked(lambda: request.clock.restart(on=on))
            return _step(request, action, RequestState.RECEIVED, clock)
        case Abandon():
            return _step(request, action, RequestState.ABANDONED, request.clock)
        case ConsultThirdParty(on=on, kind=kind):
            # Art. 33(3): consultation time does not count toward the reply period.
            clock = clocked(lambda: request.clock.pause(on=on))
            asking = replace(request, consultation_clock=start_clock(_CONSULTATION_RULES[kind], on))
            return _step(asking, action, RequestState.CONSULTING_THIRD_PARTY, clock, str(kind))
        case EndConsultation(on=on, agrees=agrees):
            assert request.consultation_clock is not None
            reply_due = request.consultation_clock.due_on
            if agrees is None and on <= reply_due:
                m.refuse(s, action, f"the consultee has until {reply_due} to reply")
            clock = clocked(lambda: request.clock.resume(on=on))
            back = RequestState.EXTENDED if request.extension_approved_by else RequestState.RECEIVED
            note = {True: "agrees", False: "objects", None: "no reply"}[agrees]
            done = replace(request, consultation_clock=None)
            return _step(done, action, back, clock, note)
        case Extend(on=on, approved_by=by):
            if not by.strip():
                m.refuse(s, action, "an extension needs the approver's name")
            clock = clocked(lambda: request.clock.extend(on=on))
            approved = replace(request, extension_approved_by=by)
            return _step(approved, action, RequestState.EXTENDED, clock, f"approved by {by}")
        case Answer(on=on, answer_type=kind, reason=reason):
            if kind.needs_reason and not reason.strip():
                m.refuse(s, action, f"a {kind} answer must give its reason")
            answered = replace(request, answer_type=kind, answered_on=on)
            return _step(answered, action, RequestState.ANSWERED, request.clock, reason)
    return m.refuse(s, action)  # pragma: no cover - the machine table admits nothing else


def _step(
    request: DisclosureRequest, action: Action, state: RequestState, clock: Clock, note: str = ""
) -> DisclosureRequest:
    step = Step(action_name(action), action.on, state, note)
    return replace(request, state=state, clock=clock, history=(*request.history, step))


STATUS_LABELS_ZH = {
    RequestState.RECEIVED: "办理中",
    RequestState.CORRECTION_REQUESTED: "待补正",
    RequestState.CONSULTING_THIRD_PARTY: "征求第三方意见中",
    RequestState.EXTENDED: "已延期办理",
    RequestState.ANSWERED: "已答复",
    RequestState.ABANDONED: "视为放弃申请",
}
"""What the public tracking page says of each state."""
