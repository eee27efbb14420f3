"""What the api reads of cases: the list (filters, cursor pages, CSV), one case with its clocks
worked out on today's calendar, the yearly statistics, and the applicant for those who handle
the case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from fazhi.contracts.envelope import ID_PATTERN
from fazhi.contracts.mediation import CaseType, Channel, Outcome, Procedure
from fazhi.contracts.models import SHORT_TEXT_PATTERN
from fazhi.contracts.terms import with_labels
from fazhi.roles import Role
from fazhi.rules import WorkCalendar
from fazhi.store import INTERNAL_FIELDS
from fazhi.web import (
    Caller,
    PageParams,
    PageQuery,
    Principal,
    Problem,
    Scope,
    ServiceRuntime,
    Timeline,
    calendar_cache,
    document_router,
    fetch_page,
    invalid_fields,
    runtime,
    work_calendar,
)
from petition_mediation.cases.document import BOARD, clock_views, today
from petition_mediation.cases.reports import csv_response, stats_csv, year_stats
from petition_mediation.store import (
    CASE_HISTORY,
    CASES,
    CLOSE_UNREVIEWED_DAY,
    DEEM_ACCEPTED_DAY,
    PRIVATE,
)

SCOPE = Scope(owners="the filing unit", parties=("respondent_unit",))
HIDDEN = (
    PRIVATE,
    "case",
    BOARD,
    "due_days",
    "provisional_years",
    DEEM_ACCEPTED_DAY,
    CLOSE_UNREVIEWED_DAY,
    "units",
)
APPLICANT_SCOPE = (
    "operator keys, department keys of the units in `owner_units` (the filing unit) or named "
    "in `respondent_unit`; supervisor and any other key: 404"
)


async def _calendar(request: Request) -> WorkCalendar:
    rt = await runtime(request)
    return await work_calendar(rt, await calendar_cache(request))


async def render_case(request: Request, doc: dict[str, Any]) -> dict[str, Any]:
    """A case as read: its clocks worked out on today's calendar (a schedule loaded since the
    case last moved counts, and a clock passed since shows `overdue`)."""
    doc["clocks"] = clock_views(doc, today(), await _calendar(request))
    return doc


def _visible(who: Principal) -> dict[str, Any]:
    """The cases a key may list: all for supervisors and operators, else those its unit owns
    or is party to (the read scope of one case, as a filter)."""
    if who.has(Role.SUPERVISOR, Role.OPERATOR):
        return {}
    return {"units": who.unit}


def _filters(
    who: Principal,
    year: int,
    case_type: CaseType | None,
    status: str | None,
    unit: str | None,
    overdue: bool | None,
    category: str | None,
) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [{"year": year}, _visible(who)]
    if unit is not None:
        conditions.append({"units": unit})
    for name, value in (
        ("case_type", str(case_type) if case_type is not None else None),
        ("status", status),
        ("overdue", overdue),
        ("category", category),
    ):
        if value is not None:
            conditions.append({name: value})
    merged: dict[str, Any] = {}
    rest: list[dict[str, Any]] = []
    for condition in conditions:
        if condition.keys() & merged.keys():
            rest.append(condition)
        else:
            merged.update(condition)
    return {"$and": [merged, *rest]} if rest else merged


_PROJECTION = {name: 0 for name in (*INTERNAL_FIELDS, PRIVATE, "case")}


def _item(doc: dict[str, Any], now: date, calendar: WorkCalendar) -> dict[str, Any]:
    doc["clocks"] = clock_views(doc, now, calendar)
    doc["case_id"] = doc.pop("_id")
    for name in HIDDEN:
        doc.pop(name, None)
    with_labels(doc, {"case_type": CaseType})
    return doc


_PROBLEM: dict[str, Any] = {"application/problem+json": {}}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of items, or with format=csv all of them as CSV",
        "content": {"application/json": {}, "text/csv": {}},
    },
    400: {"description": "A cursor this API did not give", "content": _PROBLEM},
    401: {"description": "Missing or unknown API key", "content": _PROBLEM},
    422: {"description": "A filter out of its range or pattern", "content": _PROBLEM},
}

STATS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The counts, or with format=csv as CSV",
        "content": LIST_RESPONSES[200]["content"],
    },
    401: LIST_RESPONSES[401],
    422: LIST_RESPONSES[422],
}

Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="The year cases were filed in (default: this year)"),
]


def _only(*names: str) -> Any:
    """A dependency refusing query parameters the endpoint does not take (a typo in a filter
    would otherwise widen the list silently)."""

    async def check(request: Request) -> None:
        unknown = [name for name in request.query_params if name not in names]
        if unknown:
            errors = [
                {"field": f"query.{name}", "message": "unknown parameter"} for name in unknown
            ]
            raise invalid_fields(errors)

    return Depends(check)


LIST_PARAMS = _only(
    "limit", "cursor", "year", "case_type", "status", "unit", "overdue", "category", "format"
)
STATS_PARAMS = _only("year", "format")


def routers() -> list[APIRouter]:
    """The list, the statistics and the applicant; then one case with its history."""
    router = APIRouter(tags=["cases"])

    @router.get(
        "/v1/cases",
        summary="Cases of a year, newest first, with their clocks (cursor pages; CSV with "
        "format=csv)",
        description="Supervisor and operator keys list every case; any other key the cases "
        "its unit filed or is the respondent of. `unit` matches either.",
        responses=LIST_RESPONSES,
    )
    async def list_cases(
        request: Request,
        who: Caller,
        _: Annotated[None, LIST_PARAMS],
        page: PageQuery,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        year: Year = None,
        case_type: CaseType | None = None,
        status: Annotated[str | None, Query(max_length=40, pattern="^[a-z_]+$")] = None,
        unit: Annotated[str | None, Query(max_length=64, pattern="^[a-z0-9-]+$")] = None,
        overdue: bool | None = None,
        category: Annotated[
            str | None, Query(min_length=1, max_length=500, pattern=SHORT_TEXT_PATTERN)
        ] = None,
        format: Literal["json", "csv"] = "json",
    ) -> Any:
        now = today()
        query = _filters(who, year or now.year, case_type, status, unit, overdue, category)
        calendar = await _calendar(request)
        if format == "csv":
            return csv_response(
                _all_cases(rt, query, now, calendar), f"cases-{year or now.year}.csv"
            )
        found = await fetch_page(
            rt.db[CASES], query, page, key="filed_at", descending=True, projection=_PROJECTION
        )
        return found.body([_item(doc, now, calendar) for doc in found.items])

    @router.get(
        "/v1/stats",
        summary="A year's cases by type, category and unit: received, closed, closed on time, "
        "overdue, and how often the unit's head appeared in court (CSV with format=csv)",
        description="Counted over the cases the key may list (see `GET /v1/cases`).",
        responses=STATS_RESPONSES,
    )
    async def stats(
        who: Caller,
        _: Annotated[None, STATS_PARAMS],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        year: Year = None,
        format: Literal["json", "csv"] = "json",
    ) -> Any:
        year = year or today().year
        query = _filters(who, year, None, None, None, None, None)
        fields = ("case_type", "category", "respondent_unit", "final", "late", "overdue")
        docs = (
            await rt.db[CASES]
            .find(query, {name: 1 for name in (*fields, "hearings", "head_appearances")})
            .to_list(None)
        )
        body = {"year": year, **year_stats(docs)}
        if format == "csv":
            return Response(
                stats_csv(body),
                media_type="text/csv; charset=utf-8",
                headers={"content-disposition": f'attachment; filename="stats-{year}.csv"'},
            )
        return body

    @router.get(
        "/v1/cases/{doc_id}/applicant",
        summary="The applicant of a case (personal data), for those who handle it",
        description=f"Who reads it: {APPLICANT_SCOPE}, exactly as for an unknown id.",
        openapi_extra={"x-fazhi-read-scope": APPLICANT_SCOPE},
        responses={
            401: LIST_RESPONSES[401],
            404: {"description": "Not known (yet), or not readable with this key"},
            422: {"description": "Not an id", "content": _PROBLEM},
        },
    )
    async def applicant(
        who: Caller,
        doc_id: Annotated[str, Path(pattern=ID_PATTERN, description="A case id")],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> dict[str, Any]:
        doc = await rt.db[CASES].find_one({"_id": doc_id}, {"case": 0, BOARD: 0})
        allowed = doc is not None and (
            who.has(Role.OPERATOR) or (who.has(Role.DEPARTMENT) and who.unit in SCOPE.units(doc))
        )
        if doc is None or not allowed:
            raise Problem(404, f"No case {doc_id!r} is known yet.", kind="not-found")
        return {"case_id": doc_id, "applicant": doc.get(PRIVATE, {}).get("applicant")}

    one = document_router(
        path="/v1/cases",
        collection=CASES,
        id_name="case_id",
        tag="cases",
        summary="A case, its state, its clocks (worked out on today's calendar, each "
        "with its explanation) and its history",
        scope=SCOPE,
        hidden=HIDDEN,
        timelines=[Timeline("history", CASE_HISTORY, "case_id")],
        terms={
            "case_type": CaseType,
            "procedure": Procedure,
            "outcome": Outcome,
            "channel": Channel,
        },
        render=render_case,
    )
    return [router, one]


async def _all_cases(
    rt: ServiceRuntime, query: dict[str, Any], now: date, calendar: WorkCalendar
) -> AsyncIterator[dict[str, Any]]:
    params = PageParams(limit=500)
    while True:
        found = await fetch_page(
            rt.db[CASES], query, params, key="filed_at", descending=True, projection=_PROJECTION
        )
        for doc in found.items:
            yield _item(doc, now, calendar)
        if found.next is None:
            return
        last = found.items[-1]
        params = PageParams(limit=500, after=(last["filed_at"], last["case_id"]))
