"""`GET /v1/tasks` (the plan's measures with units, tasks and milestones, filtered, in cursor
pages), `GET /v1/tasks.csv` and `GET /v1/tasks/{task_id}` (a measure, task or milestone with
its timeline)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from fazhi.contracts.models import UnitCode
from fazhi.rules import find_unit
from fazhi.store import INTERNAL_FIELDS, OWNERS
from fazhi.web import (
    Caller,
    Listing,
    PageQuery,
    Scope,
    ServiceRuntime,
    Timeline,
    csv_response,
    document_router,
    runtime,
)
from supervision.domain import TaskState
from supervision.items.flows import task_item_id
from supervision.responses import documented, strict_query
from supervision.store import MEASURE, MILESTONE, TASK, TASK_HISTORY, TASKS

TASK_FILTERS = ("unit", "status", "overdue", "chapter", "kind")
SCOPE = Scope(
    owners="its lead and responsible units; a task outside the plan: the unit that first "
    "reported it"
)
CSV_FIELDS = (
    "task_id",
    "kind",
    "measure",
    "chapter",
    "title",
    "summary",
    "unit",
    "lead_units",
    "responsible_units",
    "due_day",
    "status",
    "progress_pct",
    "overdue",
    "days_overdue",
)


def unit_names(codes: list[str]) -> list[str]:
    names = []
    for code in codes:
        unit = find_unit(code)
        names.append(unit.name if unit else code)
    return names


def render_measure(doc: dict[str, Any]) -> dict[str, Any]:
    """A measure as users read it: its units by name, its progress rolled up, and each task
    and milestone with its own state (the milestones with the item that supervises them)."""
    states: dict[str, Any] = doc.get("progress") or {}
    tasks, milestones = [], []
    for child in doc.get("children", []):
        state = states.get(child["task_id"], {})
        entry = {
            "task_id": child["task_id"],
            "summary": child.get("summary"),
            "status": state.get("status", TaskState.NOT_STARTED),
            "progress_pct": state.get("progress_pct", 0),
        }
        if child.get("kind") == MILESTONE:
            overdue = bool(state.get("overdue"))
            entry.update(
                due_day=child.get("due_day"),
                overdue=overdue,
                days_overdue=state.get("days_overdue", 0),
                item_id=task_item_id(child["task_id"]) if overdue else None,
            )
            milestones.append(entry)
        else:
            tasks.append(entry)
    return {
        "task_id": doc["_id"],
        "kind": MEASURE,
        "measure": doc.get("measure"),
        "measure_seq": doc.get("measure_seq"),
        "chapter": doc.get("chapter"),
        "chapter_title": doc.get("chapter_title"),
        "title": doc.get("title"),
        "weight": doc.get("weight", 1.0),
        "unit": doc.get("unit"),
        "lead_units": doc.get("lead_units", []),
        "lead_unit_names": unit_names(doc.get("lead_units", [])),
        "responsible_units": doc.get("responsible_units", []),
        "responsible_unit_names": unit_names(doc.get("responsible_units", [])),
        "units": doc.get(OWNERS, []),
        "status": doc.get("status", TaskState.NOT_STARTED),
        "progress_pct": doc.get("progress_pct", 0),
        "overdue": bool(doc.get("overdue")),
        "days_overdue": doc.get("days_overdue", 0),
        "due_day": doc.get("due_day"),
        "tasks": tasks,
        "milestones": milestones,
    }


def render_task(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == MEASURE:
        return render_measure(doc)
    out = {k: v for k, v in doc.items() if k not in ("_id", "watch_day")}
    out["task_id"] = doc["_id"]
    out["overdue"] = bool(doc.get("overdue"))
    return out


async def filters(
    unit: Annotated[UnitCode | None, Query(description="A lead or responsible unit")] = None,
    status: Annotated[
        TaskState | None, Query(description="not_started, in_progress, completed")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Past a due date and unfinished")] = None,
    chapter: Annotated[
        Literal["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"] | None,
        Query(description="The plan's chapter (一…十)"),
    ] = None,
    kind: Annotated[
        Literal["measure", "task", "milestone"],
        Query(description="Measures (default), tasks or milestones"),
    ] = "measure",
) -> dict[str, Any]:
    """Equality on indexed fields (a department key is held to its unit by `LISTING`)."""
    found: dict[str, Any] = {"kind": kind}
    if unit is not None:
        found[OWNERS] = unit
    if status is not None:
        found["status"] = str(status)
    if overdue is True:
        found["overdue"] = True
    elif overdue is False:
        found["overdue"] = {"$ne": True}
    if chapter is not None:
        found["chapter"] = chapter
    return found


Filters = Annotated[dict[str, Any], Depends(filters)]

LISTING = Listing(
    TASKS,
    scope=SCOPE,
    bounds=frozenset({"kind"}),
    projection={name: 0 for name in (*INTERNAL_FIELDS, "watch_day")},
    render=render_task,
)
"""Measures, tasks or milestones (`kind` is always given), in the order of their ids."""


def router() -> APIRouter:
    api = APIRouter(tags=["tasks"])

    @api.get(
        "/v1/tasks",
        summary="The plan's 31 measures 措施 with their units, tasks, milestones and progress",
        description="Progress of a measure is rolled up (weighted) from its tasks and "
        "milestones; a measure is overdue while one of its milestones is past due and "
        "unfinished. `kind=task` or `kind=milestone` lists those instead.",
        responses=documented(paged=True),
        dependencies=[Depends(strict_query(*TASK_FILTERS, "limit", "cursor"))],
    )
    async def list_tasks(
        who: Caller,
        found: Filters,
        page: PageQuery,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        return await LISTING.page(rt.db, who, found, page)

    @api.get(
        "/v1/tasks.csv",
        summary="Measures, tasks and milestones as CSV (UTF-8 with BOM)",
        response_class=StreamingResponse,
        responses=documented(media=("text/csv",)),
        dependencies=[Depends(strict_query())],
    )
    async def tasks_csv(
        who: Caller, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> StreamingResponse:
        async def rows() -> AsyncIterator[list[Any]]:
            for kind in (MEASURE, TASK, MILESTONE):
                async for doc in LISTING.documents(rt.db, who, {"kind": kind}):
                    row = {**doc, "task_id": doc["_id"]}
                    yield [row.get(name) for name in CSV_FIELDS]

        return csv_response(CSV_FIELDS, rows(), filename="tasks.csv")

    api.include_router(
        document_router(
            path="/v1/tasks",
            collection=TASKS,
            id_name="task_id",
            tag="tasks",
            summary="A measure, task or milestone with its progress and timeline",
            scope=SCOPE,
            hidden=("watch_day",),
            timelines=[Timeline("history", TASK_HISTORY, "task_id")],
        )
    )
    return api
