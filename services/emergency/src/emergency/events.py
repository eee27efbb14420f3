"""The event types emergency 突发事件应对 owns (`fazhi.contracts.emergency`), bound to its store."""

from __future__ import annotations

from emergency.store import ALERTS, FORCES, INCIDENTS, NOTICES, PLANS, SUPPLIES
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
        "emergency.plan.registered": Binding(PLANS, creates=True),
        "emergency.plan.drilled": Binding(PLANS),
        "emergency.plan.revision_due": Binding(PLANS),
        "emergency.supply.stocked": Binding(SUPPLIES, creates=True),
        "emergency.supply.low": Binding(SUPPLIES),
        "emergency.force.registered": Binding(FORCES, creates=True),
        "emergency.force.called_up": Binding(FORCES),
        "emergency.force.compensated": Binding(FORCES),
        "emergency.alert.escalated": Binding(ALERTS),
        "emergency.alert.expired": Binding(ALERTS),
        "emergency.notice.published": Binding(NOTICES, creates=True),
    },
)
