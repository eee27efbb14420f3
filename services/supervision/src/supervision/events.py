"""The event types supervision 督查督办 owns (`fazhi.contracts.supervision`), bound to its store."""

from __future__ import annotations

from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.supervision import CONTRACT
from supervision.store import FINDINGS, ITEMS, TASKS, TRAININGS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        # Tasks outside the plan's catalogue may be reported too: the first report creates them.
        "supervision.task.progress_reported": Binding(TASKS, creates=True),
        "supervision.task.completed": Binding(TASKS, creates=True),
        "supervision.task.overdue": Binding(TASKS),
        "supervision.task.due_soon": Binding(TASKS),
        "supervision.item.opened": Binding(ITEMS, creates=True),
        "supervision.item.escalated": Binding(ITEMS),
        "supervision.item.closed": Binding(ITEMS),
        "supervision.item.rectified": Binding(ITEMS),
        # Supervisors of any unit accept or reopen an item of the unit under supervision.
        "supervision.item.accepted": Binding(ITEMS, any_unit=True),
        "supervision.item.reopened": Binding(ITEMS, any_unit=True),
        "supervision.finding.recorded": Binding(FINDINGS, creates=True),
        "supervision.training.recorded": Binding(TRAININGS, creates=True),
    },
)
