"""Administrative mediation 行政调解, and referral between the three channels (三调联动)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from fazhi.rules import Clock, Machine, Step
from petition_mediation.domain.commands import (
    Action,
    Channel,
    RecordAgreement,
    RecordFailure,
    Refer,
    StartMediation,
)
from petition_mediation.domain.common import _Clocked, _step


class MediationState(StrEnum):
    FILED = "filed"
    MEDIATING = "mediating"
    REFERRED = "referred"
    AGREED = "agreed"
    FAILED = "failed"


@dataclass(frozen=True)
class Referral:
    on: date
    from_channel: Channel
    to_channel: Channel
    body: str


@dataclass(frozen=True)
class MediationCase(_Clocked):
    """No statutory period in our laws: no clock. A referral keeps the case id and thread."""

    case_id: str
    filed_on: date
    state: MediationState = MediationState.FILED
    channel: Channel = Channel.ADMINISTRATIVE
    referrals: tuple[Referral, ...] = ()
    agreement: str = ""
    clock: Clock | None = None
    history: tuple[Step, ...] = ()


def file_mediation(case_id: str, filed_on: date) -> MediationCase:
    return MediationCase(case_id, filed_on)


MEDIATIONS = Machine[MediationState](
    "mediation case",
    {
        MediationState.FILED: {StartMediation, Refer, RecordFailure},
        MediationState.MEDIATING: {Refer, RecordAgreement, RecordFailure},
        MediationState.REFERRED: {StartMediation, RecordFailure},
        # A failed mediation may still be handed to another channel (三调联动).
        MediationState.FAILED: {Refer},
    },
)


def _mediation(case: MediationCase, action: Action) -> MediationCase:
    m, s = MEDIATIONS, case.state
    match action:
        case StartMediation():
            return _step(case, action, MediationState.MEDIATING, None, case.channel)
        case Refer(on=on, to=to, body=body):
            if to is case.channel:
                m.refuse(s, action, f"the case is already in {to} mediation")
            referral = Referral(on, case.channel, to, body)
            moved = replace(case, channel=to, referrals=(*case.referrals, referral))
            return _step(
                moved, action, MediationState.REFERRED, None, f"{case.channel} → {to}: {body}"
            )
        case RecordAgreement(agreement=agreement):
            if not agreement.strip():
                m.refuse(s, action, "an agreement (调解协议) needs its terms")
            agreed = replace(case, agreement=agreement)
            return _step(agreed, action, MediationState.AGREED, None)
        case RecordFailure(reason=reason):
            return _step(case, action, MediationState.FAILED, None, reason)
    return m.refuse(s, action)  # pragma: no cover
