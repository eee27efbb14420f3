"""The event types open-government 政务公开 owns (`fazhi.contracts.opengov`), bound to its store."""

from __future__ import annotations

from fazhi.contracts.opengov import (
    CONTRACT,
    ConsultationEnded,
    ConsultationStarted,
    CorrectionRequested,
    DecisionAdopted,
    DecisionEvaluated,
    DecisionListed,
    DecisionStepRecorded,
    DecisionWithdrawn,
    DocumentPublished,
    DocumentReviewed,
    RequestAbandoned,
    RequestAnswered,
    RequestCorrected,
    RequestDueSoon,
    RequestExtended,
    RequestOverdue,
    RequestReceived,
    ValidityChanged,
)
from fazhi.store import Binding, EventCatalog
from open_government.store import DECISIONS, DOCUMENTS, REQUESTS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        RequestReceived: Binding(REQUESTS, creates=True),
        CorrectionRequested: Binding(REQUESTS),
        RequestCorrected: Binding(REQUESTS),
        RequestAbandoned: Binding(REQUESTS),
        ConsultationStarted: Binding(REQUESTS),
        ConsultationEnded: Binding(REQUESTS),
        RequestExtended: Binding(REQUESTS),
        RequestAnswered: Binding(REQUESTS),
        RequestOverdue: Binding(REQUESTS),
        RequestDueSoon: Binding(REQUESTS),
        DecisionListed: Binding(DECISIONS, creates=True),
        DecisionWithdrawn: Binding(DECISIONS),
        DecisionStepRecorded: Binding(DECISIONS),
        DecisionAdopted: Binding(DECISIONS, creates=True),
        DecisionEvaluated: Binding(DECISIONS),
        DocumentPublished: Binding(DOCUMENTS, creates=True),
        DocumentReviewed: Binding(DOCUMENTS),
        ValidityChanged: Binding(DOCUMENTS),
    },
)
