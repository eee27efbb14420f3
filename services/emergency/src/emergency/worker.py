"""Emergency worker: projects incidents and alerts into MongoDB (each feature's flows).

Run with `python -m emergency.worker` (or `faust -A emergency.worker worker`).
"""

from __future__ import annotations

from emergency import alerts, incidents, notices
from emergency.config import Settings
from emergency.events import CATALOG
from emergency.store import ensure_indexes
from fazhi.reactions import Reactions
from fazhi.worker import WorkerEntry

REACTIONS: Reactions = {
    **incidents.flows.REACTIONS,
    **alerts.flows.REACTIONS,
    **notices.flows.REACTIONS,
}

WORKER = WorkerEntry(
    CATALOG,
    Settings,
    REACTIONS,
    ensure_indexes,
    (*alerts.timers.TIMERS_OF_ALERTS, *incidents.timers.TIMERS_OF_INCIDENTS),
)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A emergency.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
