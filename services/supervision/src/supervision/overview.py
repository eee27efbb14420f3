"""The state of the plan and the items at a glance, for the dashboard and the metrics: open
items by kind, level and status, and unfinished tasks past due per unit. Queries are equalities
on indexed fields (`status`, `overdue`) that bound what is read."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.contracts.supervision import ItemStatus
from fazhi.web import ServiceRuntime
from supervision.metrics import supervision_metrics
from supervision.store import ITEMS, MEASURE, TASKS

log = logging.getLogger(__name__)

NOT_CLOSED = (ItemStatus.OPEN, ItemStatus.RECTIFYING)
REFRESH_S = 15.0


@dataclass(frozen=True)
class Overview:
    items: Counter[tuple[str, str, str]]
    """(kind, level, status) → items not closed."""
    overdue: Counter[str]
    """unit → its unfinished tasks and milestones past due."""
    overdue_measures: list[dict[str, Any]]

    def by_level(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for (_, level, _), n in self.items.items():
            found[level] += n
        return found


async def overview(db: AsyncDatabase[dict[str, Any]]) -> Overview:
    items: Counter[tuple[str, str, str]] = Counter()
    for status in NOT_CLOSED:
        async for doc in db[ITEMS].find({"status": str(status)}, {"kind": 1, "level": 1}):
            items[(doc.get("kind", ""), doc.get("level", ""), str(status))] += 1
    overdue: Counter[str] = Counter()
    measures = []
    async for doc in db[TASKS].find({"overdue": True}):
        if doc.get("kind") == MEASURE:
            measures.append(doc)
        elif doc.get("unit"):
            overdue[doc["unit"]] += 1
    measures.sort(key=lambda m: m.get("measure_seq", 0))
    return Overview(items, overdue, measures)


async def refresh_metrics(db: AsyncDatabase[dict[str, Any]]) -> None:
    seen = await overview(db)
    metrics = supervision_metrics()
    metrics.open_items.clear()
    for (kind, level, status), n in seen.items.items():
        metrics.open_items.labels(kind=kind, level=level, status=status).set(n)
    metrics.overdue_tasks.clear()
    for unit, n in seen.overdue.items():
        metrics.overdue_tasks.labels(unit=unit).set(n)


_refreshers: set[asyncio.Task[None]] = set()


async def start_metrics_refresh(rt: ServiceRuntime) -> None:
    """The api's gauges follow the store (every 15 s), so `/metrics` answers at once."""

    async def loop() -> None:
        while True:
            with contextlib.suppress(PyMongoError):
                await refresh_metrics(rt.db)
            await asyncio.sleep(REFRESH_S)

    task = asyncio.get_running_loop().create_task(loop())
    _refreshers.add(task)
    task.add_done_callback(_refreshers.discard)
