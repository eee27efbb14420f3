"""Supervision api (`uvicorn supervision.api:create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from fazhi.app import Timeline, create_service_app, document_router
from fazhi.publisher import Publisher
from supervision.config import Settings
from supervision.events import CATALOG
from supervision.store import TASK_HISTORY, TASKS, ensure_indexes


def create_app(settings: Settings | None = None, *, publisher: Publisher | None = None) -> FastAPI:
    return create_service_app(
        title="Fazhi supervision 督查督办",
        description="Tracks the plan's tasks and supervision items; departments post progress events.",
        catalog=CATALOG,
        settings=settings or Settings(),
        publisher=publisher,
        routers=[
            document_router(
                path="/v1/tasks",
                collection=TASKS,
                id_name="task_id",
                tag="tasks",
                summary="A plan task's progress as reported by its units, with its history",
                timelines=[Timeline("history", TASK_HISTORY, "task_id")],
            )
        ],
        ensure_indexes=ensure_indexes,
    )
