"""Supervision worker: loads the plan's catalogue, projects task and item events, opens items on
what other services report (its reactions name the topics it consumes), and watches deadlines
(day scans: reminders, overdue notices, the escalation ladder).

Run with `python -m supervision.worker` (or `faust -A supervision.worker worker`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus import Reactions, WorkerEntry, merge_reactions
from fazhi.contracts.envelope import CHINA_TZ
from supervision import items, tasks
from supervision.config import Settings
from supervision.events import CATALOG
from supervision.plan import load_plan
from supervision.store import ensure_indexes, load_plan_tasks
from supervision.watch import ITEM_WATCH, TASK_WATCH


async def prepare(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Indexes, and the plan's catalogue with every unfinished milestone under watch from today
    (the catch-up of milestones that fell due while no worker ran)."""
    await ensure_indexes(db)
    await load_plan_tasks(db, load_plan(), datetime.now(CHINA_TZ).date())


REACTIONS: Reactions = merge_reactions(
    tasks.flows.REACTIONS, items.flows.REACTIONS, items.triggers.REACTIONS
)

WORKER = WorkerEntry(
    CATALOG,
    Settings,
    REACTIONS,
    prepare,
    timers=[TASK_WATCH, ITEM_WATCH],
)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A supervision.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
