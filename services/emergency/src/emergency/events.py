"""The event types emergency 突发事件应对 owns (`fazhi.contracts.emergency`), bound to its store."""

from __future__ import annotations

from emergency.store import ALERTS, FORCES, INCIDENTS, NOTICES, PLANS, SUPPLIES
from fazhi.contracts.emergency import (
    CONTRACT,
    AlertAcknowledged,
    AlertEscalated,
    AlertExpired,
    AlertIssued,
    ForceCalledUp,
    ForceCompensated,
    ForceRegistered,
    IncidentClosed,
    IncidentReported,
    NoticePublished,
    PersonalDataPurged,
    PlanDrilled,
    PlanRegistered,
    PlanRevisionDue,
    ResponseEnded,
    ResponseLevelChanged,
    SupplyLow,
    SupplyStocked,
)
from fazhi.store import Binding, EventCatalog

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        IncidentReported: Binding(INCIDENTS, creates=True),
        AlertIssued: Binding(ALERTS, creates=True),
        # Staff of any unit acknowledge the alerts of every unit.
        AlertAcknowledged: Binding(ALERTS, any_unit=True),
        ResponseLevelChanged: Binding(INCIDENTS),
        ResponseEnded: Binding(INCIDENTS),
        IncidentClosed: Binding(INCIDENTS),
        PersonalDataPurged: Binding(INCIDENTS),
        PlanRegistered: Binding(PLANS, creates=True),
        PlanDrilled: Binding(PLANS),
        PlanRevisionDue: Binding(PLANS),
        SupplyStocked: Binding(SUPPLIES, creates=True),
        SupplyLow: Binding(SUPPLIES),
        ForceRegistered: Binding(FORCES, creates=True),
        ForceCalledUp: Binding(FORCES),
        ForceCompensated: Binding(FORCES),
        AlertEscalated: Binding(ALERTS),
        AlertExpired: Binding(ALERTS),
        NoticePublished: Binding(NOTICES, creates=True),
    },
)
