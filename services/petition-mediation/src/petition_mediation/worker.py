"""Petition-mediation worker: projects cases and the lists of adjudicable matters (each feature's
flows); its timers apply the holiday schedules loaded, report the clocks that passed, deem accepted
the reconsiderations whose acceptance review ended undecided and close the petitions whose review
window ended unused.

Run with `python -m petition_mediation.worker` (or `faust -A petition_mediation.worker worker`).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus import Reactions, WorkerEntry, merge_reactions
from petition_mediation import cases, matters
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG
from petition_mediation.store import MARKS, ensure_indexes


async def prepare(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Indexes, and the lapse days of cases projected before cases kept them."""
    await ensure_indexes(db)
    await cases.timers.mark_lapse_days(db)


REACTIONS: Reactions = merge_reactions(cases.flows.REACTIONS, matters.flows.REACTIONS)

WORKER = WorkerEntry(
    CATALOG, Settings, REACTIONS, prepare, timers=cases.timers.TIMERS, carried=(MARKS,)
)
create_worker = WORKER.create
__getattr__ = (
    WORKER.module_getattr
)  # `faust -A petition_mediation.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
