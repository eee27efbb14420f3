"""Supervision worker: loads the plan's catalogue, projects task and item events, opens items on
what other services report (its reactions name the topics it consumes), and watches deadlines
(a timer: reminders, overdue notices, the escalation ladder).

Run with `python -m supervision.worker` (or `faust -A supervision.worker worker`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.envelope import CHINA_TZ
from fazhi.reactions import Reactions, merge_reactions
from fazhi.settings import ServiceSettings
from fazhi.worker import Timer, TimerContext, WorkerEntry
from supervision import items, tasks
from supervision.config import Settings
from supervision.domain import Ladder
from supervision.events import CATALOG
from supervision.plan import load_plan
from supervision.store import ensure_indexes, load_plan_tasks
from supervision.watch import DeadlineWatcher


async def prepare(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Indexes, and the plan's catalogue with every unfinished milestone under watch from today
    (the catch-up of milestones that fell due while no worker ran)."""
    await ensure_indexes(db)
    await load_plan_tasks(db, load_plan(), datetime.now(CHINA_TZ).date())


REACTIONS: Reactions = merge_reactions(
    tasks.flows.REACTIONS, items.flows.REACTIONS, items.triggers.REACTIONS
)

_watchers: dict[int, DeadlineWatcher] = {}


async def watch_deadlines(ctx: TimerContext) -> None:
    watcher = _watchers.get(id(ctx))
    if watcher is None:
        settings = ctx.settings
        assert isinstance(settings, Settings)
        watcher = DeadlineWatcher(ctx.db, ctx.publisher, Ladder.parse(settings.ladder_days))
        _watchers[id(ctx)] = watcher
    await watcher.tick()


def _interval(settings: ServiceSettings) -> float:
    assert isinstance(settings, Settings)
    return settings.watch_interval_s


WORKER = WorkerEntry(
    CATALOG,
    Settings,
    REACTIONS,
    prepare,
    timers=[Timer("deadline-watch", _interval, watch_deadlines)],
)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A supervision.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
