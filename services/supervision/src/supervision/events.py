"""The event types supervision 督查督办 owns (`fazhi.contracts.supervision`), bound to its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.supervision import CONTRACT
from supervision.store import ITEMS, TASKS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        # Tasks outside the plan's catalogue may be reported too: the first report creates them.
        "supervision.task.progress_reported": Binding(TASKS, creates=True),
        "supervision.task.completed": Binding(TASKS, creates=True),
        "supervision.task.overdue": Binding(TASKS),
        "supervision.item.opened": Binding(ITEMS, creates=True),
        "supervision.item.escalated": Binding(ITEMS),
        "supervision.item.closed": Binding(ITEMS),
    },
)
