"""Event types owned by emergency 突发事件应对 and their payloads (CAP semantics for alerts)."""

from __future__ import annotations

from typing import Self

from pydantic import AwareDatetime, Field, model_validator

from emergency.domain import AlertLevel, CapStatus, Grade, MsgType, ResponseLevel
from emergency.store import ALERTS, INCIDENTS
from fazhi.auth import Role
from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Id, LongText, Payload, ShortText
from fazhi.topology import EMERGENCY

TOPIC = EMERGENCY.topic


class IncidentReported(Payload):
    incident_id: Id
    category: ShortText
    grade: Grade
    title: ShortText
    location: ShortText
    occurred_at: AwareDatetime


class AlertIssued(Payload):
    alert_id: Id
    msg_type: MsgType
    references: list[Id] = Field(default_factory=list, max_length=50)
    status: CapStatus = CapStatus.ACTUAL
    level: AlertLevel
    category: ShortText
    headline: ShortText
    description: LongText
    area: ShortText
    effective: AwareDatetime
    expires: AwareDatetime
    instruction: LongText = ""

    @property
    def chain_id(self) -> str:
        """The first alert of the chain: updates and cancels travel with it, in order."""
        return self.references[0] if self.references else self.alert_id

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.msg_type is not MsgType.ALERT and not self.references:
            raise ValueError(
                f"an {self.msg_type} must reference the alert(s) it replaces or cancels"
            )
        if self.expires <= self.effective:
            raise ValueError("expires must be after effective")
        return self


class AlertAcknowledged(Payload):
    alert_id: Id
    staff_id: Id
    acknowledged_at: AwareDatetime


class ResponseLevelChanged(Payload):
    incident_id: Id
    level: ResponseLevel
    changed_at: AwareDatetime


CATALOG = EventCatalog.of(
    "emergency",
    TOPIC,
    [
        EventType(
            "emergency.incident.reported", IncidentReported, "incident_id", INCIDENTS, creates=True
        ),
        EventType("emergency.alert.issued", AlertIssued, "chain_id", ALERTS, creates=True),
        EventType(
            "emergency.alert.acknowledged",
            AlertAcknowledged,
            "alert_id",
            ALERTS,
            any_unit=True,
            posters=frozenset({Role.STAFF, Role.OPERATOR}),
        ),
        EventType(
            "emergency.response.level_changed", ResponseLevelChanged, "incident_id", INCIDENTS
        ),
    ],
)
