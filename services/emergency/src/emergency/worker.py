"""Emergency worker: projects incidents and alerts into MongoDB.

Run with `python -m emergency.worker` (or `faust -A emergency.worker worker`).
"""

from __future__ import annotations

from emergency.config import Settings
from emergency.domain import (
    AlertState,
    ChangeResponseLevel,
    Incident,
    IncidentState,
    StartResponse,
    transition_incident,
)
from emergency.events import CATALOG
from emergency.store import ACKNOWLEDGEMENTS, ALERTS, INCIDENT_LEVELS, INCIDENTS, ensure_indexes
from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.emergency import (
    AlertAcknowledged,
    AlertIssued,
    Grade,
    IncidentReported,
    MsgType,
    ResponseLevel,
    ResponseLevelChanged,
)
from fazhi.projection import Document, owned_by
from fazhi.reactions import Reactions
from fazhi.worker import WorkerEntry


async def on_incident_reported(ctx: HandlerContext, data: IncidentReported) -> None:
    doc: Document = await ctx.get(INCIDENTS, data.incident_id) or {
        "_id": data.incident_id,
        "status": str(IncidentState.REPORTED),
        "response_level": None,
    }
    doc.update(data.model_dump(exclude={"incident_id"}))
    ctx.save(INCIDENTS, doc)


async def on_level_changed(ctx: HandlerContext, data: ResponseLevelChanged) -> None:
    """The incidents machine decides: a reported incident starts its response at the level, a
    responding one changes it; any other state refuses."""
    doc = await ctx.get(INCIDENTS, data.incident_id)
    if doc is None:
        raise PoisonError(f"incident {data.incident_id!r} does not exist (yet)")
    before = Incident(
        incident_id=data.incident_id,
        category=doc.get("category", ""),
        grade=Grade(doc["grade"]),
        title=doc.get("title", ""),
        location=doc.get("location", ""),
        occurred_at=doc["occurred_at"],
        state=IncidentState(doc["status"]),
        response_level=ResponseLevel(doc["response_level"]) if doc.get("response_level") else None,
    )
    action = (
        StartResponse(data.level, data.changed_at)
        if before.state is IncidentState.REPORTED
        else ChangeResponseLevel(data.level, data.changed_at)
    )
    after = transition_incident(before, action)
    doc.update(status=str(after.state), response_level=str(after.response_level))
    ctx.save(INCIDENTS, doc)
    ctx.append(
        INCIDENT_LEVELS,
        {
            "incident_id": data.incident_id,
            "seq": ctx.record.offset,
            "level": str(data.level),
            "changed_at": data.changed_at,
        },
    )


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
    IncidentReported: [on_incident_reported],
    ResponseLevelChanged: [on_level_changed],
    AlertIssued: [on_alert_issued],
    AlertAcknowledged: [on_alert_acknowledged],
}


WORKER = WorkerEntry(CATALOG, Settings, REACTIONS, ensure_indexes)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A emergency.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
