"""How alert events change alerts (CAP: an update replaces, a cancel ends) and record their
acknowledgements by staff."""

from __future__ import annotations

from emergency.domain import AlertState
from emergency.store import ACKNOWLEDGEMENTS, ALERTS
from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.emergency import AlertAcknowledged, AlertIssued, MsgType
from fazhi.projection import Document, owned_by
from fazhi.reactions import Reactions


async def on_alert_issued(ctx: HandlerContext, data: AlertIssued) -> None:
    # An update replaces, a cancel ends, the alerts it references (CAP); all of one chain share
    # a partition, so the referenced alerts are already here, and must be this unit's own.
    referenced: list[Document] = []
    missing, foreign = [], []
    for ref in data.references:
        doc = await ctx.get(ALERTS, ref)
        if doc is None:
            missing.append(ref)
        elif not owned_by(doc, ctx.event.unit):
            foreign.append(ref)
        else:
            referenced.append(doc)
    if missing or foreign:
        raise PoisonError(
            f"alert {data.alert_id!r} references unknown alerts {sorted(missing)} "
            f"or alerts of other units {sorted(foreign)}"
        )
    state = AlertState.CANCELLED if data.msg_type is MsgType.CANCEL else AlertState.IN_FORCE
    alert: Document = await ctx.get(ALERTS, data.alert_id) or {"_id": data.alert_id}
    alert.update(
        data.model_dump(exclude={"alert_id", "status"}),
        cap_status=str(data.status),
        status=str(state),
    )
    alert.setdefault("owner_units", [ctx.event.unit])
    ctx.save(ALERTS, alert)
    # The referenced messages stay as they were issued; `replaced_by` marks them as no longer
    # current, and a cancel ends the whole chain.
    for doc in referenced:
        if "replaced_by" in doc or doc["_id"] == data.alert_id:
            continue
        doc["replaced_by"] = data.alert_id
        if state is AlertState.CANCELLED:
            doc["status"] = str(AlertState.CANCELLED)
        ctx.save(ALERTS, doc)


async def on_alert_acknowledged(ctx: HandlerContext, data: AlertAcknowledged) -> None:
    doc = await ctx.get(ALERTS, data.alert_id)
    if doc is None:
        raise PoisonError(f"alert {data.alert_id!r} does not exist (yet)")
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


REACTIONS: Reactions = {
    AlertIssued: [on_alert_issued],
    AlertAcknowledged: [on_alert_acknowledged],
}
