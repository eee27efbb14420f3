"""MongoDB collections of petition-mediation and their indexes."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store import VERSION, HotQuery

CASES = "cases"
CASE_HISTORY = "case_history"
"""Insert-only: one row per step of a case (filing, acceptance, decision, ...)."""
MATTERS = "matters"
"""Each unit's published list of adjudicable matters (行政裁决事项清单), by list id."""
MARKS = "timer_marks"
"""What the worker's timers have done: the last day each day scan looked at (overdue clocks,
deemed acceptances, unreviewed closings), and the holiday schedule of each year its provisional
clocks were recomputed on."""
DEEM_ACCEPTED_DAY = "deem_accepted_day"
"""The day a reconsideration in acceptance review is deemed accepted unless a decision comes
first (the day after the review ends)."""
CLOSE_UNREVIEWED_DAY = "close_unreviewed_day"
"""The day a petition answered is closed unless review or re-review is asked first (the day after
its window ends)."""
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published."""

LIST_FILTERS = ("case_type", "status", "units", "overdue", "category", "year")
"""The fields `GET /v1/cases` and `GET /v1/stats` filter on, each by equality on its index."""

HOT_QUERIES = (
    HotQuery(CASES, {"_id": "C-1"}, "worker load, owner check at ingest, GET /v1/cases/{id}"),
    HotQuery(CASES, {"_id": "C-1", VERSION: 3}, "worker save, timer recompute"),
    HotQuery(CASE_HISTORY, {"case_id": "C-1"}, "GET /v1/cases/{id}: its history"),
    HotQuery(CASES, {"due_days": "2026-12-01"}, "timer: the clocks that passed yesterday"),
    HotQuery(CASES, {"provisional_years": 2027}, "timer: clocks waiting for a year's schedule"),
    HotQuery(MARKS, {"_id": "overdue"}, "timer: the last day swept"),
    HotQuery(CASES, {DEEM_ACCEPTED_DAY: "2026-12-01"}, "timer: reviews that ended undecided"),
    HotQuery(MARKS, {"_id": "deemed-acceptance"}, "timer: the last day looked at"),
    HotQuery(CASES, {CLOSE_UNREVIEWED_DAY: "2026-12-01"}, "timer: review windows that ended"),
    HotQuery(MARKS, {"_id": "unreviewed-closing"}, "timer: the last day looked at"),
    HotQuery(MATTERS, {"_id": "L-1"}, "worker load, GET /v1/matters/{id}"),
    HotQuery(CASES, {"year": 2026}, "GET /v1/stats?year="),
    *(
        HotQuery(CASES, {name: example}, f"GET /v1/cases?{name.removesuffix('s')}=")
        for name, example in (
            ("case_type", "petition"),
            ("status", "accepted"),
            ("units", "justice"),
            ("category", "行政处罚"),
        )
    ),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[CASES].create_index(
        [("case_type", ASCENDING), ("filed_at", DESCENDING)], name="type_filed"
    )
    await db[CASES].create_index(
        [("respondent_unit", ASCENDING), ("status", ASCENDING)], name="unit_status"
    )
    for name in (
        "due_days",
        "provisional_years",
        DEEM_ACCEPTED_DAY,
        CLOSE_UNREVIEWED_DAY,
        "year",
        "units",
        "status",
        "category",
    ):
        await db[CASES].create_index([(name, ASCENDING)], name=name)
    await db[CASES].create_index([("overdue", ASCENDING)], name="overdue")
    await db[CASE_HISTORY].create_index([("case_id", ASCENDING)], name="case_id")
