"""The event types emergency 突发事件应对 owns (`fazhi.contracts.emergency`), bound to its store."""

from __future__ import annotations

from emergency.store import ALERTS, INCIDENTS, NOTICES
from fazhi.catalog import Binding, EventCatalog
from fazhi.contracts.emergency import CONTRACT

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        "emergency.incident.reported": Binding(INCIDENTS, creates=True),
        "emergency.alert.issued": Binding(ALERTS, creates=True),
        # Staff of any unit acknowledge the alerts of every unit.
        "emergency.alert.acknowledged": Binding(ALERTS, any_unit=True),
        "emergency.response.level_changed": Binding(INCIDENTS),
        "emergency.response.ended": Binding(INCIDENTS),
        "emergency.incident.closed": Binding(INCIDENTS),
        "emergency.incident.personal_data_purged": Binding(INCIDENTS),
        "emergency.alert.escalated": Binding(ALERTS),
        "emergency.alert.expired": Binding(ALERTS),
        "emergency.notice.published": Binding(NOTICES, creates=True),
    },
)
