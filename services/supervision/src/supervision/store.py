"""MongoDB collections of supervision and their indexes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules import units
from fazhi.store import OWNERS, UPDATE_BATCH, VERSION, HotQuery
from supervision.domain import next_watch_day
from supervision.plan import Plan

TASKS = "tasks"
"""The plan as users read it: its 31 measures (`kind: measure`, `_id` "M18"), their tasks
("M18-T1") and dated milestones ("M18-D1"), and tasks units report outside the catalogue."""
TASK_HISTORY = "task_history"
"""Insert-only: one row per report, completion, reminder or overdue day of a task (its timeline)."""
ITEMS = "items"
ITEM_HISTORY = "item_history"
"""Insert-only: one row per change of an item (opened, linked, escalated, rectified, closed)."""
FINDINGS = "findings"
TRAININGS = "trainings"
WATCH = "watch"
"""One per day scan of the worker (`_id` its name): the last day it looked at (`through`)."""

MEASURE = "measure"
MILESTONE = "milestone"
TASK = "task"

HOT_QUERIES = (
    HotQuery(TASKS, {"_id": "M18-T1"}, "worker load, owner check at ingest, GET /v1/tasks/{id}"),
    HotQuery(TASKS, {"_id": "M18-T1", VERSION: 3}, "worker save"),
    HotQuery(TASKS, {"watch_day": "2026-12-01"}, "deadline watcher: who falls due today"),
    HotQuery(TASKS, {"kind": "measure"}, "GET /v1/tasks, the dashboard, scorecards"),
    HotQuery(TASKS, {"overdue": True}, "metrics: overdue tasks per unit"),
    HotQuery(TASK_HISTORY, {"task_id": "M18-T1"}, "GET /v1/tasks/{id}: its history"),
    HotQuery(ITEMS, {"_id": "alert-A1"}, "worker load, GET /v1/items/{id}"),
    HotQuery(ITEMS, {"_id": "alert-A1", VERSION: 3}, "worker save"),
    HotQuery(ITEMS, {"escalate_day": "2026-12-01"}, "deadline watcher: the ladder's next steps"),
    HotQuery(ITEMS, {"source_event_ids": "evt-1"}, "GET /v1/items?source_event_id="),
    HotQuery(ITEMS, {"status": "open"}, "GET /v1/items?status=, dashboard, metrics"),
    HotQuery(ITEMS, {"unit": "justice"}, "GET /v1/items?unit=, scorecards"),
    HotQuery(ITEMS, {"kind": "alert"}, "GET /v1/items?kind="),
    HotQuery(ITEMS, {"level": "red"}, "GET /v1/items?level="),
    HotQuery(ITEMS, {"opened_year": 2026}, "scorecards, annual report"),
    HotQuery(ITEM_HISTORY, {"item_id": "alert-A1"}, "GET /v1/items/{id}: its history"),
    HotQuery(TRAININGS, {"year": 2026}, "scorecards: training of a year"),
    HotQuery(WATCH, {"_id": "deadline-watch"}, "deadline watch tick: where it stands"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for field in ("kind", "watch_day", "overdue", "chapter", OWNERS, "status"):
        await db[TASKS].create_index([(field, ASCENDING)], name=field)
    await db[TASK_HISTORY].create_index([("task_id", ASCENDING)], name="task_id")
    await db[ITEM_HISTORY].create_index([("item_id", ASCENDING)], name="item_id")
    for field in (
        "escalate_day",
        "source_event_ids",
        "status",
        "unit",
        "kind",
        "level",
        "opened_year",
    ):
        await db[ITEMS].create_index([(field, ASCENDING)], name=field)
    await db[TRAININGS].create_index([("year", ASCENDING)], name="year")


def day_key(day: date) -> str:
    return day.isoformat()


def measure_id(seq: int) -> str:
    return f"M{seq:02d}"


def first_unit(codes: list[str] | tuple[str, ...]) -> str:
    """The unit that answers for a task: its first lead unit (a group: its first member)."""
    for code in codes:
        resolved = sorted(units.resolve(code))
        if resolved:
            return resolved[0] if units.is_group_code(code) else code
    raise ValueError(f"no unit among {codes}")


def plan_documents(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """The plan's measures, tasks and dated milestones as documents (`_id`, catalogue fields)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    chapters = {c.number: c for c in plan.chapters}
    for measure in plan.measures:
        common = {
            "measure": measure.number,
            "measure_seq": measure.seq,
            "measure_id": measure_id(measure.seq),
            "chapter": measure.chapter,
            "title": measure.title,
        }
        children: list[dict[str, Any]] = []
        for task in measure.tasks:
            children.append({"task_id": task.id, "kind": TASK, "summary": task.summary})
            docs.append(
                (
                    task.id,
                    {
                        **common,
                        "kind": TASK,
                        "summary": task.summary,
                        "lead_units": list(task.lead_units),
                        "responsible_units": list(task.responsible_units),
                        "unit": first_unit(task.lead_units),
                        "due_at": _end_of_day(plan.end_date),
                        "due_day": day_key(plan.end_date),
                        "weight": 1.0,
                    },
                )
            )
        for milestone in measure.milestones:
            children.append(
                {
                    "task_id": milestone.id,
                    "kind": MILESTONE,
                    "summary": milestone.title,
                    "due_day": day_key(milestone.due),
                }
            )
            docs.append(
                (
                    milestone.id,
                    {
                        **common,
                        "kind": MILESTONE,
                        "summary": milestone.title,
                        "source_text": milestone.source,
                        "lead_units": list(measure.lead_units),
                        "responsible_units": list(measure.responsible_units),
                        "unit": first_unit(measure.lead_units),
                        "due_at": _end_of_day(milestone.due),
                        "due_day": day_key(milestone.due),
                        "weight": 1.0,
                    },
                )
            )
        docs.append(
            (
                measure_id(measure.seq),
                {
                    **common,
                    "kind": MEASURE,
                    "chapter_title": chapters[measure.chapter].title,
                    "summary": measure.title,
                    "lead_units": list(measure.lead_units),
                    "responsible_units": list(measure.responsible_units),
                    "unit": first_unit(measure.lead_units),
                    "weight": measure.weight,
                    "children": children,
                    "due_day": day_key(max(m.due for m in measure.milestones))
                    if measure.milestones
                    else day_key(plan.end_date),
                },
            )
        )
    return docs


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CHINA_TZ)


def _units(codes: tuple[str, ...] | list[str]) -> set[str]:
    return {unit for code in codes for unit in units.resolve(code)}


def initial_watch_day(due: date, today: date) -> date:
    """The first day the watcher must look at an unfinished milestone: its next reminder or
    first day overdue, or today when that is past (the catch-up of a start after the fact)."""
    return max(next_watch_day(due, today - timedelta(days=1)), today)


async def load_plan_tasks(db: AsyncDatabase[dict[str, Any]], plan: Plan, today: date) -> int:
    """Upsert the catalogue into `tasks`; progress already reported is kept. Every unfinished
    milestone is put under watch from `today` on. Returns the count.

    A task is owned by its lead and responsible units (groups resolved), who may report on it.
    """
    docs = plan_documents(plan)
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
        for doc_id, fields in docs
    ]
    watches = [
        UpdateOne(
            # `_id` bounds the query; a completed milestone is not watched.
            {"_id": doc_id, "status": {"$ne": "completed"}},
            {
                "$set": {
                    "watch_day": day_key(
                        initial_watch_day(date.fromisoformat(fields["due_day"]), today)
                    )
                },
                "$inc": {VERSION: 1},
            },
        )
        for doc_id, fields in docs
        if fields["kind"] == MILESTONE
    ]
    for batch in (requests, watches):
        for start in range(0, len(batch), UPDATE_BATCH):
            await db[TASKS].bulk_write(batch[start : start + UPDATE_BATCH], ordered=False)
    return len(requests)
