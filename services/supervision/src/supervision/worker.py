"""Supervision worker: loads the plan's catalogue and projects task events into MongoDB.

Run with `python -m supervision.worker` (or `faust -A supervision.worker worker`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.consumer import Handler, HandlerContext
from fazhi.contracts.supervision import TaskCompleted, TaskProgressReported
from fazhi.envelope import CHINA_TZ
from fazhi.projection import Document
from fazhi.worker import WorkerEntry
from supervision.catalogue import load_plan
from supervision.config import Settings
from supervision.domain import (
    Complete,
    PlanTask,
    ReportProgress,
    TaskAction,
    TaskState,
    transition_task,
)
from supervision.events import CATALOG
from supervision.store import TASK_HISTORY, TASKS, ensure_indexes, load_plan_tasks


async def on_progress_reported(ctx: HandlerContext, data: TaskProgressReported) -> None:
    await _apply(
        ctx,
        data.task_id,
        data.unit,
        ReportProgress(data.progress_pct, data.note, data.reported_at.astimezone(CHINA_TZ).date()),
        {"updated_at": data.reported_at},
        {"progress_pct": data.progress_pct, "note": data.note},
    )


async def on_completed(ctx: HandlerContext, data: TaskCompleted) -> None:
    await _apply(
        ctx,
        data.task_id,
        data.unit,
        Complete(data.completed_at.astimezone(CHINA_TZ).date(), data.evidence),
        {"completed_at": data.completed_at, "updated_at": data.completed_at},
        {"evidence": data.evidence},
    )


async def _apply(
    ctx: HandlerContext,
    task_id: str,
    unit: str,
    action: TaskAction,
    fields: dict[str, Any],
    history: dict[str, Any],
) -> None:
    """The domain decides the task's next state (tasks outside the plan's catalogue are created
    by their first report); the document keeps it, the timeline keeps the report."""
    doc: Document = await ctx.get(TASKS, task_id) or {"_id": task_id}
    task = PlanTask(
        task_id=task_id,
        unit=unit,
        due_on=date.max,
        state=TaskState(doc.get("status", TaskState.NOT_STARTED)),
        progress_pct=doc.get("progress_pct", 0),
    )
    after = transition_task(task, action)
    doc.update(fields, status=str(after.state), progress_pct=after.progress_pct, reported_by=unit)
    ctx.save(TASKS, doc)
    event = ctx.event
    ctx.append(
        TASK_HISTORY,
        {
            "task_id": task_id,
            "seq": ctx.record.offset,
            "event_id": event.id,
            "type": event.type,
            "source": event.source,
            "time": event.time,
            **history,
        },
    )


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
