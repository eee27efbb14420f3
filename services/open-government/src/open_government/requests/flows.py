"""How disclosure requests (依申请公开) move: each on its machine, with the reply clock of
政府信息公开条例 arts. 30-33; a move the machine refuses goes to the dead-letter topic with its
reason. Personal data stays in each request's `private` part; the texts others read are
redacted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from fazhi.codec import clock_summary, decode, encode
from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.opengov import RequestAnswered, RequestOverdue, RequestReceived
from fazhi.envelope import CHINA_TZ
from fazhi.projection import Document
from fazhi.reactions import Reactions
from fazhi.redaction import redact
from open_government.domain import Answer, DisclosureRequest, receive_request, transition
from open_government.store import PRIVATE, REQUESTS


async def on_request_received(ctx: HandlerContext, data: RequestReceived) -> None:
    if await ctx.get(REQUESTS, data.request_id) is not None:
        raise PoisonError(f"request {data.request_id!r} is already received")
    request = receive_request(data.request_id, data.channel, _day(data.received_at))
    doc: Document = {
        "_id": data.request_id,
        **data.model_dump(exclude={"request_id", "applicant", "content"}),
        "content": redact(data.content, [data.applicant.party()]).text,
        PRIVATE: {"applicant": data.applicant.model_dump(), "content": data.content},
    }
    _keep(ctx, doc, request)


async def on_request_answered(ctx: HandlerContext, data: RequestAnswered) -> None:
    """The request's machine decides (a reasoned answer needs its reason, an answer needs the
    request to be open); the reply clock is kept to tell whether the answer was on time."""
    doc = await ctx.get(REQUESTS, data.request_id)
    if doc is None:
        raise PoisonError(f"request {data.request_id!r} does not exist (yet)")
    request = decode(DisclosureRequest, doc["request"])
    answered = transition(request, Answer(_day(data.answered_at), data.answer_type, data.reason))
    doc.update(answer_type=str(data.answer_type), answered_at=data.answered_at)
    _keep(ctx, doc, answered)


async def on_request_overdue(ctx: HandlerContext, data: RequestOverdue) -> None:
    """Marks the request overdue, unless it was answered or its due date moved meanwhile."""
    doc = await ctx.get(REQUESTS, data.request_id)
    if doc is None:
        raise PoisonError(f"request {data.request_id!r} does not exist (yet)")
    if doc.get("answered_at") is not None or doc.get("due_date") != data.due_date.isoformat():
        return
    doc.update(overdue=True, days_overdue=data.days_overdue)
    ctx.save(REQUESTS, doc)


def _keep(ctx: HandlerContext, doc: Document, request: DisclosureRequest) -> None:
    clock = clock_summary(request.clock) or {}
    answered = request.answered_on
    doc.update(
        status=str(request.state),
        request=encode(replace(request, history=request.history[-1:])),
        due_date=clock.get("due_date"),
        provisional=clock.get("provisional"),
        answered_on_time=answered <= request.due_on if answered is not None else None,
    )
    ctx.save(REQUESTS, doc)


def _day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


REACTIONS: Reactions = {
    RequestReceived: [on_request_received],
    RequestAnswered: [on_request_answered],
    RequestOverdue: [on_request_overdue],
}
