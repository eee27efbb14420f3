"""How alert events change alerts (CAP: an update replaces, a cancel ends) and record their
acknowledgements by staff."""

from __future__ import annotations

from emergency.domain import (
    Acknowledge,
    Alert,
    AlertMessage,
    AlertState,
    issue_alert,
    transition_alert,
)
from emergency.store import ACKNOWLEDGEMENTS, ALERTS
from fazhi.codec import decode, encode
from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.emergency import AlertAcknowledged, AlertEscalated, AlertIssued, MsgType
from fazhi.projection import Document
from fazhi.reactions import Reactions


async def on_alert_issued(ctx: HandlerContext, data: AlertIssued) -> None:
    """The chain's rules decide (`issue_alert`, `transition_alert`): an update or a cancel must
    reference a message of a chain still pending or in force, keep its CAP status, and come from
    the unit that owns it. The chain's state lives with its first message (all of one chain
    share a partition); each message also has a document of its own, and the messages it
    replaces are marked `replaced_by` (a cancel ends them all)."""
    message = _message(ctx, data)
    if data.msg_type is MsgType.ALERT and not data.references:
        head: Document = {"_id": data.alert_id}
        chain = issue_alert(message)
    else:
        found = await ctx.get(ALERTS, data.chain_id)
        if found is None or "chain" not in found:
            raise PoisonError(f"alert {data.alert_id!r} references unknown alert {data.chain_id!r}")
        head = found
        chain = transition_alert(decode(Alert, head["chain"]), message)
    head["chain"] = encode(chain)
    ctx.save(ALERTS, head)
    status = AlertState.CANCELLED if data.msg_type is MsgType.CANCEL else AlertState.IN_FORCE
    doc: Document = head if data.alert_id == data.chain_id else {"_id": data.alert_id}
    doc.update(
        data.model_dump(exclude={"alert_id", "status"}),
        chain_id=data.chain_id,
        cap_status=str(data.status),
        status=str(status),
    )
    doc.setdefault("owner_units", [ctx.event.unit])
    ctx.save(ALERTS, doc)
    for ref in data.references:
        replaced = await ctx.get(ALERTS, ref)
        if replaced is None or "replaced_by" in replaced or ref == data.alert_id:
            continue
        replaced["replaced_by"] = data.alert_id
        if status is AlertState.CANCELLED:
            replaced["status"] = str(AlertState.CANCELLED)
        ctx.save(ALERTS, replaced)


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
    doc["acknowledged"] = True
    ctx.save(ALERTS, doc)
    ctx.append(
        ACKNOWLEDGEMENTS,
        {
            "alert_id": data.alert_id,
            "seq": ctx.record.offset,
            "staff_id": data.staff_id,
            "at": data.acknowledged_at,
        },
    )


async def on_alert_escalated(ctx: HandlerContext, data: AlertEscalated) -> None:
    """The unacknowledged message shows when it was escalated (once: the id is derived)."""
    doc = await ctx.get(ALERTS, data.alert_id)
    if doc is None:
        raise PoisonError(f"alert {data.alert_id!r} does not exist (yet)")
    doc.setdefault("escalated_at", data.escalated_at)
    ctx.save(ALERTS, doc)


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
}
