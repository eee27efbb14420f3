"""How alert events change alerts (CAP: an update replaces, a cancel ends, a message in force
ends by itself at its `expires`) and record their acknowledgements by staff."""

from __future__ import annotations

from datetime import datetime

from emergency.domain import (
    Acknowledge,
    Alert,
    AlertMessage,
    MessageStatus,
    alert_needs_notice,
    expired,
    issue_alert,
    minute_bucket,
    needs_acknowledgement,
    transition_alert,
)
from emergency.metrics import emergency_metrics
from emergency.notices.flows import tell_public
from emergency.store import ACK_BUCKET, ACKNOWLEDGEMENTS, ALERTS, EXPIRES_BUCKET
from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.emergency import (
    AlertAcknowledged,
    AlertEscalated,
    AlertExpired,
    AlertIssued,
    MsgType,
    NoticeSourceKind,
)
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.store import Document, decode, encode


async def on_alert_issued(ctx: HandlerContext, data: AlertIssued) -> None:
    """The chain's rules decide (`issue_alert`, `transition_alert`): an update or a cancel must
    reference a message of a chain still pending or in force, keep its CAP status, and come from
    the unit that owns it. The chain's state lives with its first message (all of one chain
    share a partition); each message also has a document of its own. The message in force
    before is `replaced` by an update or `cancelled` by a cancel; the new one is `active`
    (a cancel's own message records the cancellation)."""
    message = _message(ctx, data)
    before: Alert | None = None
    if data.msg_type is MsgType.ALERT and not data.references:
        head: Document = {"_id": data.alert_id}
        chain = issue_alert(message)
    else:
        found = await ctx.get(ALERTS, data.chain_id)
        if found is None or "chain" not in found:
            raise PoisonError(f"alert {data.alert_id!r} references unknown alert {data.chain_id!r}")
        head = found
        before = decode(Alert, head["chain"])
        chain = transition_alert(before, message)
    head["chain"] = encode(chain)
    cancel = data.msg_type is MsgType.CANCEL
    current = chain.current
    tell_public(
        ctx,
        head,
        kind=NoticeSourceKind.ALERT,
        wanted=alert_needs_notice(chain),
        ended=cancel,
        title=("【解除】" if cancel else "") + current.headline,
        body=_notice_body(current),
        level=str(current.level),
        area=current.area,
        at=ctx.event.time,
    )
    if before is not None:
        ended_id = before.current.alert_id
        ended = head if ended_id == data.chain_id else await ctx.get(ALERTS, ended_id)
        if ended is not None:
            _end(ended, MessageStatus.CANCELLED if cancel else MessageStatus.REPLACED)
            ended["replaced_by"] = data.alert_id
            ctx.save(ALERTS, ended)
    ctx.save(ALERTS, head)
    doc: Document = head if data.alert_id == data.chain_id else {"_id": data.alert_id}
    doc.update(
        data.model_dump(exclude={"alert_id", "status"}),
        chain_id=data.chain_id,
        cap_status=str(data.status),
        status=str(MessageStatus.CANCELLED if cancel else MessageStatus.ACTIVE),
        sent=ctx.event.time,
        unit=ctx.event.unit,
        level_rank=data.level.rank,
    )
    if not cancel:
        # The timers look through each minute once. A message projected after its minute was
        # looked through (its worker was down or behind) goes in the minute it is projected in,
        # which they have yet to look through: it is still escalated and expired, late.
        projected = datetime.now(CHINA_TZ)
        doc[EXPIRES_BUCKET] = minute_bucket(max(data.expires, projected))
        if needs_acknowledgement(chain):
            doc[ACK_BUCKET] = minute_bucket(max(ctx.event.time, projected))
    doc.setdefault("owner_units", [ctx.event.unit])
    ctx.save(ALERTS, doc)


async def on_alert_expired(ctx: HandlerContext, data: AlertExpired) -> None:
    """The chain's rules decide whether the message really ran out (an update since may have
    replaced it, with a later `expires`): if not, the event changes nothing."""
    head = await ctx.get(ALERTS, data.chain_id)
    if head is None or "chain" not in head:
        raise PoisonError(f"alert {data.chain_id!r} does not exist (yet)")
    if not expired(decode(Alert, head["chain"]), data.alert_id, data.expired_at):
        return
    doc = head if data.alert_id == data.chain_id else await ctx.get(ALERTS, data.alert_id)
    if doc is None or doc.get("status") != MessageStatus.ACTIVE:
        return
    _end(doc, MessageStatus.EXPIRED)
    doc["expired_at"] = data.expired_at
    ctx.save(ALERTS, doc)
    current = decode(Alert, head["chain"]).current
    tell_public(
        ctx,
        head,
        kind=NoticeSourceKind.ALERT,
        wanted=False,
        ended=True,
        title="【已过期】" + current.headline,
        body=_notice_body(current),
        level=str(current.level),
        area=current.area,
        at=data.expired_at,
    )
    ctx.save(ALERTS, head)


def _end(doc: Document, status: MessageStatus) -> None:
    doc["status"] = str(status)
    doc.pop(EXPIRES_BUCKET, None)
    doc.pop(ACK_BUCKET, None)


async def on_alert_acknowledged(ctx: HandlerContext, data: AlertAcknowledged) -> None:
    """The chain's rules decide whether the message may still be acknowledged (not after the
    chain ended); the acknowledgement is kept with the message, in its own timeline."""
    doc = await ctx.get(ALERTS, data.alert_id)
    if doc is None:
        raise PoisonError(f"alert {data.alert_id!r} does not exist (yet)")
    head = doc if "chain" in doc else await ctx.get(ALERTS, doc.get("chain_id", data.alert_id))
    if head is not None and "chain" in head:
        ack = Acknowledge(data.alert_id, data.staff_id, data.acknowledged_at)
        transition_alert(decode(Alert, head["chain"]), ack)
    if not doc.get("acknowledged"):
        doc["acknowledged"] = True
        doc["first_acknowledged_at"] = data.acknowledged_at
        if isinstance(doc.get("sent"), datetime) and doc.get("level"):
            waited = (data.acknowledged_at - doc["sent"]).total_seconds()
            emergency_metrics().ack_seconds.labels(level=doc["level"]).observe(max(waited, 0))
    ctx.save(ALERTS, doc)
    ctx.append(
        ACKNOWLEDGEMENTS,
        {
            "alert_id": data.alert_id,
            "seq": ctx.record.offset,
            "staff_id": data.staff_id,
            "unit": ctx.event.unit,
            "at": data.acknowledged_at,
        },
    )


async def on_alert_escalated(ctx: HandlerContext, data: AlertEscalated) -> None:
    """The unacknowledged message shows when it was escalated (once: the id is derived)."""
    doc = await ctx.get(ALERTS, data.alert_id)
    if doc is None:
        raise PoisonError(f"alert {data.alert_id!r} does not exist (yet)")
    if "escalated_at" not in doc:
        doc["escalated_at"] = data.escalated_at
        emergency_metrics().escalations.labels(level=str(data.level)).inc()
    ctx.save(ALERTS, doc)


def _notice_body(message: AlertMessage) -> str:
    parts = [message.description, f"防御措施：{message.instruction}" if message.instruction else ""]
    return "\n".join(p for p in parts if p)


def _message(ctx: HandlerContext, data: AlertIssued) -> AlertMessage:
    return AlertMessage(
        alert_id=data.alert_id,
        msg_type=data.msg_type,
        level=data.level,
        category=data.category,
        headline=data.headline,
        sent=ctx.event.time,
        effective=data.effective,
        expires=data.expires,
        references=tuple(data.references),
        description=data.description,
        area=data.area,
        instruction=data.instruction,
        status=data.status,
    )


REACTIONS: Reactions = {
    AlertIssued: [on_alert_issued],
    AlertAcknowledged: [on_alert_acknowledged],
    AlertEscalated: [on_alert_escalated],
    AlertExpired: [on_alert_expired],
}
