"""Emergency worker: projects incidents and alerts into MongoDB.

Run with `python -m emergency.worker` (or `faust -A emergency.worker worker`).
"""

from __future__ import annotations

from emergency.config import Settings
from emergency.domain import AlertState, IncidentState, MsgType
from emergency.events import (
    CATALOG,
    AlertAcknowledged,
    AlertIssued,
    IncidentReported,
    ResponseLevelChanged,
)
from emergency.store import ALERTS, INCIDENTS, ensure_indexes
from fazhi.consumer import Handler, HandlerContext, PoisonError
from fazhi.envelope import CloudEvent
from fazhi.projection import OWNERS, apply_once
from fazhi.worker import WorkerEntry


async def on_incident_reported(
    ctx: HandlerContext, event: CloudEvent, data: IncidentReported
) -> None:
    fields = data.model_dump(exclude={"incident_id"})
    await apply_once(
        ctx.db[INCIDENTS],
        data.incident_id,
        event,
        {
            "$set": fields,
            "$setOnInsert": {"state": str(IncidentState.REPORTED), "response_level": None},
        },
        create=True,
    )


async def on_level_changed(
    ctx: HandlerContext, event: CloudEvent, data: ResponseLevelChanged
) -> None:
    await apply_once(
        ctx.db[INCIDENTS],
        data.incident_id,
        event,
        {
            "$set": {"response_level": str(data.level), "state": str(IncidentState.RESPONDING)},
            "$push": {"level_history": {"level": str(data.level), "changed_at": data.changed_at}},
        },
        guard={"state": {"$ne": str(IncidentState.CLOSED)}},
        refusal="the incident is closed",
    )


async def on_alert_issued(ctx: HandlerContext, event: CloudEvent, data: AlertIssued) -> None:
    # An update replaces, a cancel ends, the alerts it references (CAP); all of one chain share
    # a partition, so the referenced alerts are already here, and must be this unit's own.
    alerts = ctx.db[ALERTS]
    if data.references:
        found = await alerts.find({"_id": {"$in": data.references}}, {OWNERS: 1}).to_list()
        missing = set(data.references) - {doc["_id"] for doc in found}
        foreign = [doc["_id"] for doc in found if event.unit not in doc.get(OWNERS, [event.unit])]
        if missing or foreign:
            raise PoisonError(
                f"alert {data.alert_id!r} references unknown alerts {sorted(missing)} "
                f"or alerts of other units {sorted(foreign)}"
            )
    fields = data.model_dump(exclude={"alert_id"})
    state = AlertState.CANCELLED if data.msg_type is MsgType.CANCEL else AlertState.IN_FORCE
    await apply_once(
        alerts, data.alert_id, event, {"$set": {**fields, "state": str(state)}}, create=True
    )
    if data.references:
        # The referenced messages stay as they were issued; `replaced_by` marks them as no
        # longer current, and a cancel ends the whole chain.
        ended = {"state": str(AlertState.CANCELLED)} if state is AlertState.CANCELLED else {}
        await alerts.update_many(
            {"_id": {"$in": data.references}, "replaced_by": {"$exists": False}},
            {"$set": {**ended, "replaced_by": data.alert_id}},
        )


async def on_alert_acknowledged(
    ctx: HandlerContext, event: CloudEvent, data: AlertAcknowledged
) -> None:
    await apply_once(
        ctx.db[ALERTS],
        data.alert_id,
        event,
        {"$push": {"acknowledgements": {"staff_id": data.staff_id, "at": data.acknowledged_at}}},
        any_unit=True,
    )


HANDLERS: dict[str, Handler] = {
    "emergency.incident.reported": on_incident_reported,
    "emergency.response.level_changed": on_level_changed,
    "emergency.alert.issued": on_alert_issued,
    "emergency.alert.acknowledged": on_alert_acknowledged,
}


WORKER = WorkerEntry(CATALOG, Settings, HANDLERS, ensure_indexes)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A emergency.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
