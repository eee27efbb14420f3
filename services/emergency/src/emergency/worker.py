"""Emergency worker: projects incidents, alerts, notices and the registries into MongoDB (each
feature's flows); its timers expire and escalate alerts, purge the persons of closed incidents
and remind of plan revisions.

Run with `python -m emergency.worker` (or `faust -A emergency.worker worker`).
"""

from __future__ import annotations

from emergency import alerts, incidents, notices, registries
from emergency.config import Settings
from emergency.events import CATALOG
from emergency.store import TIMERS, ensure_indexes
from fazhi.bus import Reactions, WorkerEntry, merge_reactions

REACTIONS: Reactions = merge_reactions(
    incidents.flows.REACTIONS,
    alerts.flows.REACTIONS,
    notices.flows.REACTIONS,
    registries.flows.REACTIONS,
)

WORKER = WorkerEntry(
    CATALOG,
    Settings,
    REACTIONS,
    ensure_indexes,
    (
        *alerts.timers.TIMERS_OF_ALERTS,
        incidents.timers.PURGE,
        registries.timers.REVISIONS,
    ),
    carried=(TIMERS,),
)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A emergency.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
