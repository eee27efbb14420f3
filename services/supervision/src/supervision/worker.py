"""Supervision worker: loads the plan's catalogue and projects task events into MongoDB.

Run with `python -m supervision.worker` (or `faust -A supervision.worker worker`).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.worker import WorkerEntry
from supervision.catalogue import load_plan
from supervision.config import Settings
from supervision.domain import TaskState
from supervision.events import CATALOG, TaskCompleted, TaskProgressReported
from supervision.store import TASKS, ensure_indexes, load_plan_tasks

OPEN = {"status": {"$ne": str(TaskState.COMPLETED)}}


async def on_progress_reported(
    ctx: HandlerContext, event: CloudEvent, data: TaskProgressReported
) -> None:
    await apply_once(
        ctx.db[TASKS],
        data.task_id,
        event,
        {
            "$set": {
                "progress_pct": data.progress_pct,
                "status": str(TaskState.IN_PROGRESS),
                "reported_by": data.unit,
                "updated_at": data.reported_at,
            },
            "$push": {"history": _history(event, progress_pct=data.progress_pct, note=data.note)},
        },
        create=True,
        guard=OPEN,
        refusal="the task is completed; a supervisor must reopen it first",
    )


async def on_completed(ctx: HandlerContext, event: CloudEvent, data: TaskCompleted) -> None:
    await apply_once(
        ctx.db[TASKS],
        data.task_id,
        event,
        {
            "$set": {
                "progress_pct": 100,
                "status": str(TaskState.COMPLETED),
                "reported_by": data.unit,
                "completed_at": data.completed_at,
                "updated_at": data.completed_at,
            },
            "$push": {"history": _history(event, evidence=data.evidence)},
        },
        create=True,
        guard=OPEN,
        refusal="the task is already completed",
    )


def _history(event: CloudEvent, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "source": event.source,
        "time": event.time,
        **fields,
    }


async def prepare(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_indexes(db)
    await load_plan_tasks(db, load_plan())


HANDLERS: dict[str, Handler] = {
    "supervision.task.progress_reported": on_progress_reported,
    "supervision.task.completed": on_completed,
}


WORKER = WorkerEntry(CATALOG, Settings, HANDLERS, prepare)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A supervision.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
