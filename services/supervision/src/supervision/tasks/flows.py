"""How task events change a task: the domain decides (`transition_task`), the task document
keeps the result and its timeline keeps every report."""

from __future__ import annotations

from datetime import date
from typing import Any

from fazhi.consumer import HandlerContext
from fazhi.contracts.supervision import TaskCompleted, TaskOverdue, TaskProgressReported
from fazhi.envelope import CHINA_TZ
from fazhi.projection import Document
from fazhi.reactions import Reactions
from fazhi.redaction import redact
from supervision.domain import (
    Complete,
    PlanTask,
    ReportProgress,
    TaskAction,
    TaskState,
    transition_task,
)
from supervision.store import TASK_HISTORY, TASKS


async def on_progress_reported(ctx: HandlerContext, data: TaskProgressReported) -> None:
    await _apply(
        ctx,
        data.task_id,
        data.unit,
        ReportProgress(data.progress_pct, data.note, data.reported_at.astimezone(CHINA_TZ).date()),
        {"updated_at": data.reported_at},
        # Reports are read by every unit of the task: only their redacted text is kept.
        {"progress_pct": data.progress_pct, "note": redact(data.note).text},
    )


async def on_completed(ctx: HandlerContext, data: TaskCompleted) -> None:
    await _apply(
        ctx,
        data.task_id,
        data.unit,
        Complete(data.completed_at.astimezone(CHINA_TZ).date(), data.evidence),
        {"completed_at": data.completed_at, "updated_at": data.completed_at},
        {"evidence": redact(data.evidence).text},
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
    _timeline(ctx, task_id, history)


def _timeline(ctx: HandlerContext, task_id: str, fields: dict[str, Any]) -> None:
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
            **fields,
        },
    )


async def on_overdue(ctx: HandlerContext, data: TaskOverdue) -> None:
    """A completed task is no longer overdue (the report came first): nothing to mark."""
    doc = await ctx.get(TASKS, data.task_id)
    if doc is None or doc.get("status") == TaskState.COMPLETED:
        return
    doc.update(days_overdue=data.days_overdue)
    ctx.save(TASKS, doc)
    _timeline(ctx, data.task_id, {"days_overdue": data.days_overdue})


REACTIONS: Reactions = {
    TaskProgressReported: [on_progress_reported],
    TaskCompleted: [on_completed],
    TaskOverdue: [on_overdue],
}
