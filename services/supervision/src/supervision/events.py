"""The event types supervision 督查督办 owns (`fazhi.contracts.supervision`), bound to its store."""

from __future__ import annotations

from fazhi.contracts.supervision import (
    CONTRACT,
    FindingRecorded,
    ItemAccepted,
    ItemClosed,
    ItemEscalated,
    ItemOpened,
    ItemRectified,
    ItemReopened,
    TaskCompleted,
    TaskDueSoon,
    TaskOverdue,
    TaskProgressReported,
    TrainingRecorded,
)
from fazhi.store import Binding, EventCatalog
from supervision.store import FINDINGS, ITEMS, TASKS, TRAININGS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        # Tasks outside the plan's catalogue may be reported too: the first report creates them.
        TaskProgressReported: Binding(TASKS, creates=True),
        TaskCompleted: Binding(TASKS, creates=True),
        TaskOverdue: Binding(TASKS),
        TaskDueSoon: Binding(TASKS),
        ItemOpened: Binding(ITEMS, creates=True),
        ItemEscalated: Binding(ITEMS),
        ItemClosed: Binding(ITEMS),
        ItemRectified: Binding(ITEMS),
        # Supervisors of any unit accept or reopen an item of the unit under supervision.
        ItemAccepted: Binding(ITEMS, any_unit=True),
        ItemReopened: Binding(ITEMS, any_unit=True),
        FindingRecorded: Binding(FINDINGS, creates=True),
        TrainingRecorded: Binding(TRAININGS, creates=True),
    },
)
