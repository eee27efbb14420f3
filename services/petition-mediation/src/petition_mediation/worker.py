"""Petition-mediation worker: projects cases and the lists of adjudicable matters (each feature's
flows); its timer reports the clocks that passed and applies the holiday schedules loaded.

Run with `python -m petition_mediation.worker` (or `faust -A petition_mediation.worker worker`).
"""

from __future__ import annotations

from fazhi.reactions import Reactions, merge_reactions
from fazhi.worker import WorkerEntry
from petition_mediation import cases, matters
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG
from petition_mediation.store import ensure_indexes

REACTIONS: Reactions = merge_reactions(cases.flows.REACTIONS, matters.flows.REACTIONS)

WORKER = WorkerEntry(CATALOG, Settings, REACTIONS, ensure_indexes, timers=cases.timers.TIMERS)
create_worker = WORKER.create
__getattr__ = (
    WORKER.module_getattr
)  # `faust -A petition_mediation.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
