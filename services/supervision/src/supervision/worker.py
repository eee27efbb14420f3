"""Supervision worker: loads the plan's catalogue, projects task and item events, and opens
items on what other services report (its reactions name the topics it consumes).

Run with `python -m supervision.worker` (or `faust -A supervision.worker worker`).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.reactions import Reactions
from fazhi.worker import WorkerEntry
from supervision import items, tasks
from supervision.config import Settings
from supervision.events import CATALOG
from supervision.plan import load_plan
from supervision.store import ensure_indexes, load_plan_tasks


async def prepare(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_indexes(db)
    await load_plan_tasks(db, load_plan())


REACTIONS: Reactions = {**tasks.flows.REACTIONS, **items.flows.REACTIONS}

WORKER = WorkerEntry(CATALOG, Settings, REACTIONS, prepare)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A supervision.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
