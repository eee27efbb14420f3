"""`GET /v1/tasks/{task_id}`: a plan task with its history."""

from __future__ import annotations

from fastapi import APIRouter

from fazhi.app import Scope, Timeline, document_router
from supervision.store import TASK_HISTORY, TASKS


def router() -> APIRouter:
    return document_router(
        path="/v1/tasks",
        collection=TASKS,
        id_name="task_id",
        tag="tasks",
        summary="A plan task's progress as reported by its units, with its history",
        scope=Scope(
            owners="its lead and responsible units; a task outside the plan: the unit that "
            "first reported it"
        ),
        timelines=[Timeline("history", TASK_HISTORY, "task_id")],
    )
