"""The event types petition-mediation 矛盾纠纷调处 owns (`fazhi.contracts.mediation`), bound to
its store."""

from __future__ import annotations

from fazhi.contracts.mediation import (
    CONTRACT,
    CaseAccepted,
    CaseClosed,
    CaseClosedUnreviewed,
    CaseCorrected,
    CaseDecided,
    CaseDeemedAccepted,
    CaseDueSoon,
    CaseExtended,
    CaseFiled,
    CaseNotAccepted,
    CaseOverdue,
    CaseReferred,
    CaseResumed,
    CaseSuspended,
    CaseWithdrawn,
    CorrectionRequested,
    DecisionExecuted,
    DecisionPublished,
    DefenceFiled,
    HearingClosed,
    HearingHeld,
    HearingOpened,
    MattersPublished,
    MediationFailed,
    ProcedureConverted,
    RecommendationAnswered,
    RecommendationReceived,
    ReviewRequested,
)
from fazhi.store import Binding, EventCatalog
from petition_mediation.store import CASES, MATTERS

CATALOG = EventCatalog.bind(
    CONTRACT,
    {
        CaseFiled: Binding(CASES, creates=True),
        CaseAccepted: Binding(CASES),
        CaseDecided: Binding(CASES),
        CaseNotAccepted: Binding(CASES),
        CorrectionRequested: Binding(CASES),
        CaseCorrected: Binding(CASES),
        CaseExtended: Binding(CASES),
        ProcedureConverted: Binding(CASES),
        CaseSuspended: Binding(CASES),
        CaseResumed: Binding(CASES),
        HearingOpened: Binding(CASES),
        HearingClosed: Binding(CASES),
        ReviewRequested: Binding(CASES),
        CaseReferred: Binding(CASES),
        MediationFailed: Binding(CASES),
        DefenceFiled: Binding(CASES),
        HearingHeld: Binding(CASES),
        RecommendationReceived: Binding(CASES),
        RecommendationAnswered: Binding(CASES),
        CaseWithdrawn: Binding(CASES),
        CaseClosed: Binding(CASES),
        CaseOverdue: Binding(CASES),
        CaseDueSoon: Binding(CASES),
        CaseDeemedAccepted: Binding(CASES),
        CaseClosedUnreviewed: Binding(CASES),
        DecisionPublished: Binding(CASES),
        # The respondent unit reports carrying out the decision; the worker checks it is that
        # unit (or the case's owner).
        DecisionExecuted: Binding(CASES, any_unit=True),
        MattersPublished: Binding(MATTERS, creates=True),
    },
)
