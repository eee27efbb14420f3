"""How task events change a task: the domain decides (`transition_task`), the task document
keeps the result, its measure rolls its progress up, and its timeline keeps every report,
reminder and overdue day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fazhi.bus import HandlerContext, Reactions
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.supervision import (
    TaskCompleted,
    TaskDueSoon,
    TaskOverdue,
    TaskProgressReported,
)
from fazhi.rules import redact
from fazhi.store import Document
from supervision.domain import (
    Complete,
    PlanTask,
    ReportProgress,
    TaskAction,
    TaskState,
    next_watch_day,
    rolled_up_progress,
    transition_task,
)
from supervision.store import MEASURE, TASK_HISTORY, TASKS, day_key


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
        {
            "completed_at": data.completed_at,
            "updated_at": data.completed_at,
            "overdue": False,
            "watch_day": None,
        },
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
    doc: Document = await ctx.get(TASKS, task_id) or {"_id": task_id, "kind": "task"}
    task = PlanTask(
        task_id=task_id,
        unit=unit,
        due_on=date.max,
        state=TaskState(doc.get("status", TaskState.NOT_STARTED)),
        progress_pct=doc.get("progress_pct", 0),
    )
    after = transition_task(task, action)
    doc.update(fields, status=str(after.state), progress_pct=after.progress_pct, reported_by=unit)
    if after.state is TaskState.COMPLETED:
        doc.pop("days_overdue", None)
    ctx.save(TASKS, doc)
    _timeline(ctx, task_id, history)
    await _roll_up(ctx, doc, history)


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


async def _roll_up(ctx: HandlerContext, child: Document, history: dict[str, Any]) -> None:
    """The child's state in its measure, and the measure's progress rolled up (weighted) from
    all its tasks and milestones; the measure's timeline shows the child's step too."""
    measure_id = child.get("measure_id")
    if not measure_id or child.get("kind") == MEASURE:
        return
    measure = await ctx.get(TASKS, measure_id)
    if measure is None:
        return
    states: dict[str, Any] = dict(measure.get("progress") or {})
    states[child["_id"]] = {
        "progress_pct": child.get("progress_pct", 0),
        "status": child.get("status", TaskState.NOT_STARTED),
        "overdue": bool(child.get("overdue")),
        "days_overdue": child.get("days_overdue", 0) if child.get("overdue") else 0,
    }
    children = [c["task_id"] for c in measure.get("children", [])] or list(states)
    pct = rolled_up_progress(
        {c: (float(states.get(c, {}).get("progress_pct", 0)), 1.0) for c in children}
    )
    statuses = [states.get(c, {}).get("status", TaskState.NOT_STARTED) for c in children]
    if all(s == TaskState.COMPLETED for s in statuses):
        status = TaskState.COMPLETED
    elif pct > 0 or any(s != TaskState.NOT_STARTED for s in statuses):
        status = TaskState.IN_PROGRESS
    else:
        status = TaskState.NOT_STARTED
    overdue = [s.get("days_overdue", 0) for s in states.values() if s.get("overdue")]
    measure.update(
        progress=states,
        progress_pct=pct,
        status=str(status),
        overdue=bool(overdue) and status is not TaskState.COMPLETED,
        days_overdue=max(overdue, default=0),
    )
    ctx.save(TASKS, measure)
    _timeline(ctx, measure_id, {"child": child["_id"], **history})


def _day(ctx: HandlerContext) -> date:
    return ctx.event.time.astimezone(CHINA_TZ).date()


async def on_overdue(ctx: HandlerContext, data: TaskOverdue) -> None:
    """A completed task is no longer overdue (the report came first): nothing to mark. Else
    the watcher looks at it again tomorrow."""
    doc = await ctx.get(TASKS, data.task_id)
    if doc is None or doc.get("status") == TaskState.COMPLETED:
        return
    if doc.get("days_overdue", 0) >= data.days_overdue:
        return  # an older day's notice, after a newer one
    doc.update(
        days_overdue=data.days_overdue,
        overdue=True,
        watch_day=day_key(_day(ctx) + timedelta(days=1)),
    )
    ctx.save(TASKS, doc)
    history = {"days_overdue": data.days_overdue}
    _timeline(ctx, data.task_id, history)
    await _roll_up(ctx, doc, history)


async def on_due_soon(ctx: HandlerContext, data: TaskDueSoon) -> None:
    doc = await ctx.get(TASKS, data.task_id)
    if doc is None or doc.get("status") == TaskState.COMPLETED:
        return
    due_on = data.due_at.astimezone(CHINA_TZ).date()
    doc.update(watch_day=day_key(next_watch_day(due_on, _day(ctx))))
    ctx.save(TASKS, doc)
    _timeline(ctx, data.task_id, {"days_left": data.days_left})


REACTIONS: Reactions = {
    TaskProgressReported: [on_progress_reported],
    TaskCompleted: [on_completed],
    TaskOverdue: [on_overdue],
    TaskDueSoon: [on_due_soon],
}
