"""Supervision worker: projects task events into MongoDB (`python -m supervision.worker`)."""

from __future__ import annotations

from typing import Any

import faust

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.worker import create_worker_app, run_worker
from supervision.config import Settings
from supervision.events import CATALOG, TaskCompleted, TaskProgressReported
from supervision.store import TASKS, ensure_indexes


async def on_progress_reported(
    ctx: HandlerContext, event: CloudEvent, data: TaskProgressReported
) -> None:
    await apply_once(
        ctx.db[TASKS],
        data.task_id,
        event,
        {
            "$set": {
                "unit": data.unit,
                "progress_pct": data.progress_pct,
                "status": "in_progress" if data.progress_pct < 100 else "reported_complete",
                "updated_at": data.reported_at,
            },
            "$push": {"history": _history(event, progress_pct=data.progress_pct, note=data.note)},
        },
    )


async def on_completed(ctx: HandlerContext, event: CloudEvent, data: TaskCompleted) -> None:
    await apply_once(
        ctx.db[TASKS],
        data.task_id,
        event,
        {
            "$set": {
                "unit": data.unit,
                "progress_pct": 100,
                "status": "completed",
                "completed_at": data.completed_at,
                "updated_at": data.completed_at,
            },
            "$push": {"history": _history(event, evidence=data.evidence)},
        },
    )


def _history(event: CloudEvent, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "type": event.type,
        "source": event.source,
        "time": event.time,
        **fields,
    }


HANDLERS: dict[str, Handler] = {
    "supervision.task.progress_reported": on_progress_reported,
    "supervision.task.completed": on_completed,
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
