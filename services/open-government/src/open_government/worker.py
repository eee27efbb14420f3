"""Open-government worker: projects disclosure requests, the publication registry and major
decisions (each feature's flows), and looks for requests past their due date on a timer.

Run with `python -m open_government.worker` (or `faust -A open_government.worker worker`).
"""

from __future__ import annotations

from fazhi.bus import Reactions, WorkerEntry, merge_reactions
from open_government import decisions, documents, requests
from open_government.config import Settings
from open_government.events import CATALOG
from open_government.requests.timer import DUE_SOON, OVERDUE
from open_government.store import NUMBER_CLAIMS, NUMBERS, SEQUENCES, TIMERS, ensure_indexes

REACTIONS: Reactions = merge_reactions(
    requests.flows.REACTIONS,
    documents.flows.REACTIONS,
    documents.published_elsewhere.REACTIONS,
    decisions.flows.REACTIONS,
)


WORKER = WorkerEntry(
    CATALOG,
    Settings,
    REACTIONS,
    ensure_indexes,
    timers=[OVERDUE, DUE_SOON],
    # The timers' watermarks, and the registry's numbers the api issues (handlers read them).
    carried=(TIMERS, NUMBERS, NUMBER_CLAIMS, SEQUENCES),
)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A open_government.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
