"""Emergency worker: projects incidents and alerts into MongoDB (`python -m emergency.worker`)."""

from __future__ import annotations

import faust

from emergency.config import Settings
from emergency.domain import MsgType
from emergency.events import (
    CATALOG,
    AlertAcknowledged,
    AlertIssued,
    IncidentReported,
    ResponseLevelChanged,
)
from emergency.store import ALERTS, INCIDENTS, ensure_indexes
from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.worker import create_worker_app, run_worker


async def on_incident_reported(
    ctx: HandlerContext, event: CloudEvent, data: IncidentReported
) -> None:
    fields = data.model_dump(exclude={"incident_id"})
    await apply_once(
        ctx.db[INCIDENTS],
        data.incident_id,
        event,
        {
            "$set": {**fields, "unit": event.unit},
            "$setOnInsert": {"state": "reported", "response_level": None},
        },
    )


async def on_level_changed(
    ctx: HandlerContext, event: CloudEvent, data: ResponseLevelChanged
) -> None:
    await apply_once(
        ctx.db[INCIDENTS],
        data.incident_id,
        event,
        {
            "$set": {"response_level": str(data.level), "state": "responding"},
            "$push": {"level_history": {"level": str(data.level), "changed_at": data.changed_at}},
        },
    )


async def on_alert_issued(ctx: HandlerContext, event: CloudEvent, data: AlertIssued) -> None:
    fields = data.model_dump(exclude={"alert_id"}, mode="python")
    state = "cancelled" if data.msg_type is MsgType.CANCEL else "in_force"
    await apply_once(
        ctx.db[ALERTS],
        data.alert_id,
        event,
        {"$set": {**fields, "unit": event.unit, "state": state}},
    )
    if data.references:
        ended = "cancelled" if data.msg_type is MsgType.CANCEL else "superseded"
        await ctx.db[ALERTS].update_many(
            {"_id": {"$in": data.references}, "state": "in_force"},
            {"$set": {"state": ended, "ended_by": data.alert_id}},
        )


async def on_alert_acknowledged(
    ctx: HandlerContext, event: CloudEvent, data: AlertAcknowledged
) -> None:
    await apply_once(
        ctx.db[ALERTS],
        data.alert_id,
        event,
        {"$push": {"acknowledgements": {"staff_id": data.staff_id, "at": data.acknowledged_at}}},
    )


HANDLERS: dict[str, Handler] = {
    "emergency.incident.reported": on_incident_reported,
    "emergency.response.level_changed": on_level_changed,
    "emergency.alert.issued": on_alert_issued,
    "emergency.alert.acknowledged": on_alert_acknowledged,
}


def create_worker(settings: Settings | None = None) -> faust.App:
    return create_worker_app(
        catalog=CATALOG,
        settings=settings or Settings(),
        handlers=HANDLERS,
        ensure_indexes=ensure_indexes,
    )


def main() -> None:
    run_worker(create_worker())


if __name__ == "__main__":
    main()
