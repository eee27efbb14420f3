"""How disclosure requests (依申请公开) move: each on its machine, with the reply clock of
政府信息公开条例 arts. 30-33; a move the machine refuses goes to the dead-letter topic with its
reason. Personal data stays in each request's `private` part; the texts others read are
redacted. A request found past its due date unanswered derives `opengov.request.overdue`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.opengov import (
    ConsultationEnded,
    ConsultationStarted,
    CorrectionRequested,
    RequestAbandoned,
    RequestAnswered,
    RequestCorrected,
    RequestDueSoon,
    RequestExtended,
    RequestOverdue,
    RequestReceived,
)
from fazhi.rules import redact
from fazhi.store import OWNERS, Document, clock_summary, decode, encode
from open_government.domain.requests import (
    STATUS_LABELS_ZH,
    Abandon,
    Action,
    Answer,
    ConsultThirdParty,
    DisclosureRequest,
    EndConsultation,
    Extend,
    ReceiveCorrection,
    RequestCorrection,
    RequestState,
    receive_request,
    transition,
)
from open_government.store import PRIVATE, REQUEST_HISTORY, REQUESTS

OPEN_STATES = frozenset({RequestState.RECEIVED, RequestState.EXTENDED})
"""States in which the reply clock runs, so a request can fall overdue."""


def today() -> date:
    return datetime.now(CHINA_TZ).date()


async def on_request_received(ctx: HandlerContext, data: RequestReceived) -> None:
    if await ctx.get(REQUESTS, data.request_id) is not None:
        raise PoisonError(f"request {data.request_id!r} is already received")
    received_on = _day(data.received_at)
    request = receive_request(data.request_id, data.channel, received_on)
    doc: Document = {
        "_id": data.request_id,
        **data.model_dump(exclude={"request_id", "applicant", "content"}),
        "unit": ctx.event.unit,
        "year": received_on.year,
        "content": redact(data.content, [data.applicant.party()]).text,
        PRIVATE: {"applicant": data.applicant.model_dump(), "content": data.content},
    }
    _keep(ctx, doc, request)


async def on_request_answered(ctx: HandlerContext, data: RequestAnswered) -> None:
    """The request's machine decides (a reasoned answer needs its reason, an answer needs the
    request to be open); the reply clock is kept to tell whether the answer was on time."""
    doc = await _load(ctx, data.request_id)
    request = decode(DisclosureRequest, doc["request"])
    answered = transition(request, Answer(_day(data.answered_at), data.answer_type, data.reason))
    doc.update(answer_type=str(data.answer_type), answered_at=data.answered_at)
    _keep(ctx, doc, answered)


async def _move(ctx: HandlerContext, request_id: str, action: Action) -> None:
    doc = await _load(ctx, request_id)
    _keep(ctx, doc, transition(decode(DisclosureRequest, doc["request"]), action))


async def on_correction_requested(ctx: HandlerContext, data: CorrectionRequested) -> None:
    await _move(ctx, data.request_id, RequestCorrection(_day(data.requested_at), data.items))


async def on_request_corrected(ctx: HandlerContext, data: RequestCorrected) -> None:
    await _move(ctx, data.request_id, ReceiveCorrection(_day(data.corrected_at)))


async def on_request_abandoned(ctx: HandlerContext, data: RequestAbandoned) -> None:
    await _move(ctx, data.request_id, Abandon(_day(data.abandoned_at)))


async def on_consultation_started(ctx: HandlerContext, data: ConsultationStarted) -> None:
    await _move(ctx, data.request_id, ConsultThirdParty(_day(data.started_at), data.consultee_kind))


async def on_consultation_ended(ctx: HandlerContext, data: ConsultationEnded) -> None:
    await _move(ctx, data.request_id, EndConsultation(_day(data.ended_at), data.agrees))


async def on_request_extended(ctx: HandlerContext, data: RequestExtended) -> None:
    await _move(ctx, data.request_id, Extend(_day(data.extended_at), data.approved_by))


async def on_request_overdue(ctx: HandlerContext, data: RequestOverdue) -> None:
    """Marks the request overdue, unless it was answered or its due date moved meanwhile."""
    doc = await _load(ctx, data.request_id)
    if doc.get("answered_at") is not None or doc.get("due_date") != data.due_date.isoformat():
        return
    doc.update(overdue=True, days_overdue=data.days_overdue)
    ctx.save(REQUESTS, doc)


async def _load(ctx: HandlerContext, request_id: str) -> Document:
    doc = await ctx.get(REQUESTS, request_id)
    if doc is None:
        raise PoisonError(f"request {request_id!r} does not exist (yet)")
    return doc


def _keep(ctx: HandlerContext, doc: Document, request: DisclosureRequest) -> None:
    clock = clock_summary(request.clock) or {}
    answered = request.answered_on
    moved = doc.get("due_date") != clock.get("due_date")
    doc.update(
        status=str(request.state),
        status_label_zh=STATUS_LABELS_ZH[request.state],
        request=encode(replace(request, history=request.history[-1:])),
        due_date=clock.get("due_date"),
        provisional=clock.get("provisional"),
        explanation=request.clock.explain().to_text(),
        answered_on_time=answered <= request.due_on if answered is not None else None,
    )
    if moved:
        doc.pop("overdue", None)
        doc.pop("days_overdue", None)
    ctx.save(REQUESTS, doc)
    step = request.history[-1] if request.history else None
    ctx.append(
        REQUEST_HISTORY,
        {
            "request_id": request.request_id,
            "seq": ctx.event.time.timestamp(),
            "action": step.action if step else "receive",
            "on": (step.on if step else request.received_on).isoformat(),
            "status": str(step.state if step else request.state),
            "due_date": clock.get("due_date"),
        },
    )
    late = overdue(doc, request, today())
    if late is not None:
        ctx.emit(late, cause=overdue_cause(late), source=f"/units/{late.unit}")
    soon = reminder(doc, request, today())
    if soon is not None:
        ctx.emit(soon, cause=reminder_cause(soon), source=f"/units/{soon.unit}")


async def on_request_due_soon(ctx: HandlerContext, data: RequestDueSoon) -> None:
    """The receiving unit was reminded that the reply period is about to end (临期提醒): a
    step of the request's timeline."""
    await _load(ctx, data.request_id)
    ctx.append(
        REQUEST_HISTORY,
        {
            "request_id": data.request_id,
            "seq": ctx.event.time.timestamp(),
            "action": "due_soon",
            "on": (data.due_date - timedelta(days=data.days_left)).isoformat(),
            "status": "due_soon",
            "due_date": data.due_date.isoformat(),
        },
    )


def overdue(doc: Document, request: DisclosureRequest, on: date) -> RequestOverdue | None:
    """What `opengov.request.overdue` says of a request whose reply period ended unanswered
    before `on` (None while it has not)."""
    if request.state not in OPEN_STATES or not request.overdue(on):
        return None
    return RequestOverdue(
        request_id=request.request_id,
        unit=doc.get("unit") or (doc.get(OWNERS) or [""])[0],
        due_date=request.due_on,
        days_overdue=request.clock.days_overdue(on),
    )


def reminder(doc: Document, request: DisclosureRequest, on: date) -> RequestDueSoon | None:
    """What `opengov.request.due_soon` says of an open request whose reply period is about to
    end on `on` (None otherwise)."""
    left = request.clock.days_left(on) if request.state in OPEN_STATES else None
    if left is None:
        return None
    return RequestDueSoon(
        request_id=request.request_id,
        unit=doc.get("unit") or (doc.get(OWNERS) or [""])[0],
        due_date=request.due_on,
        days_left=left,
    )


def reminder_cause(soon: RequestDueSoon) -> str:
    """As `overdue_cause`: once per request and due date."""
    return f"{soon.request_id}@{soon.due_date.isoformat()}"


def overdue_cause(late: RequestOverdue) -> str:
    """What an overdue event derives from: the request and its due date, so found again (by
    the timer, a replay) it is the same event, and a due date moved by an extension gives a new
    one."""
    return f"{late.request_id}@{late.due_date.isoformat()}"


def _day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


REACTIONS: Reactions = {
    RequestReceived: [on_request_received],
    RequestAnswered: [on_request_answered],
    CorrectionRequested: [on_correction_requested],
    RequestCorrected: [on_request_corrected],
    RequestAbandoned: [on_request_abandoned],
    ConsultationStarted: [on_consultation_started],
    ConsultationEnded: [on_consultation_ended],
    RequestExtended: [on_request_extended],
    RequestOverdue: [on_request_overdue],
    RequestDueSoon: [on_request_due_soon],
}
