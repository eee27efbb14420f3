"""MongoDB collections of supervision and their indexes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from fazhi import units
from fazhi.envelope import CHINA_TZ
from fazhi.projection import OWNERS, UPDATE_BATCH, VERSION, HotQuery
from supervision.plan import Plan

TASKS = "tasks"
TASK_HISTORY = "task_history"
"""Insert-only: one row per report or completion of a task (its timeline)."""
ITEMS = "items"
ITEM_HISTORY = "item_history"
"""Insert-only: one row per change of an item (opened, escalated, closed)."""


HOT_QUERIES = (
    HotQuery(TASKS, {"_id": "M18-T1"}, "worker load, owner check at ingest, GET /v1/tasks/{id}"),
    HotQuery(TASKS, {"_id": "M18-T1", VERSION: 3}, "worker save"),
    HotQuery(TASK_HISTORY, {"task_id": "M18-T1"}, "GET /v1/tasks/{id}: its history"),
    HotQuery(ITEMS, {"_id": "alert-A1"}, "worker load, GET /v1/items/{id}"),
    HotQuery(ITEMS, {"_id": "alert-A1", VERSION: 3}, "worker save"),
    HotQuery(ITEM_HISTORY, {"item_id": "alert-A1"}, "GET /v1/items/{id}: its history"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[TASKS].create_index(
        [("unit", ASCENDING), ("updated_at", DESCENDING)], name="unit_updated"
    )
    await db[TASKS].create_index([("due_at", ASCENDING)], name="due_at")
    await db[TASK_HISTORY].create_index([("task_id", ASCENDING)], name="task_id")
    await db[ITEM_HISTORY].create_index([("item_id", ASCENDING)], name="item_id")
    await db[ITEMS].create_index([("status", ASCENDING), ("due_at", ASCENDING)], name="status_due")
    await db[ITEMS].create_index(
        [("unit", ASCENDING), ("opened_at", DESCENDING)], name="unit_opened"
    )


def plan_documents(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """The plan's tasks and dated milestones as task documents (`_id`, catalogue fields)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for measure in plan.measures:
        for task in measure.tasks:
            docs.append(
                (
                    task.id,
                    {
                        "kind": "task",
                        "measure": measure.number,
                        "measure_seq": measure.seq,
                        "title": measure.title,
                        "summary": task.summary,
                        "lead_units": list(task.lead_units),
                        "responsible_units": list(task.responsible_units),
                        "due_at": _end_of_day(plan.end_date),
                    },
                )
            )
        for milestone in measure.milestones:
            docs.append(
                (
                    milestone.id,
                    {
                        "kind": "milestone",
                        "measure": measure.number,
                        "measure_seq": measure.seq,
                        "title": measure.title,
                        "summary": milestone.title,
                        "lead_units": list(measure.lead_units),
                        "responsible_units": list(measure.responsible_units),
                        "due_at": _end_of_day(milestone.due),
                    },
                )
            )
    return docs


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CHINA_TZ)


def _units(codes: tuple[str, ...]) -> set[str]:
    return {unit for code in codes for unit in units.resolve(code)}


async def load_plan_tasks(db: AsyncDatabase[dict[str, Any]], plan: Plan) -> int:
    """Upsert the catalogue into `tasks`; progress already reported is kept. Returns the count.

    A task is owned by its lead and responsible units (groups resolved), who may report on it.
    """
    requests = [
        UpdateOne(
            {"_id": doc_id},
            {
                "$set": {
                    **fields,
                    OWNERS: sorted(_units((*fields["lead_units"], *fields["responsible_units"]))),
                },
                "$setOnInsert": {"status": "not_started", "progress_pct": 0},
                # A worker saving the task meanwhile sees another version and tries again.
                "$inc": {VERSION: 1},
            },
            upsert=True,
        )
        for doc_id, fields in plan_documents(plan)
    ]
    for start in range(0, len(requests), UPDATE_BATCH):
        await db[TASKS].bulk_write(requests[start : start + UPDATE_BATCH], ordered=False)
    return len(requests)
