"""Emergency rules: incidents 突发事件 (grade, response level, lifecycle) and warnings 预警 as
CAP alert chains (update, cancel, expiry, acknowledgement). Pure: times are passed in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from fazhi.contracts.emergency import (
    AlertLevel,
    CapStatus,
    Grade,
    MsgType,
    NoticeState,
    ResponseLevel,
)
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules import IllegalTransition, Machine, action_name


def needs_public_notice(grade: Grade) -> bool:
    """Grades 较大 and above get an authoritative public notice on the portal (权威信息发布)."""
    return grade.severity >= Grade.RELATIVELY_SERIOUS.severity


class IncidentState(StrEnum):
    REPORTED = "reported"
    RESPONDING = "responding"
    RECOVERING = "recovering"
    CLOSED = "closed"


@dataclass(frozen=True)
class StartResponse:
    """Art. 72: start the emergency response at a level."""

    level: ResponseLevel
    on: datetime


@dataclass(frozen=True)
class ChangeResponseLevel:
    level: ResponseLevel
    on: datetime


@dataclass(frozen=True)
class Regrade:
    """The grade is re-assessed as the facts become clear."""

    grade: Grade
    on: datetime


@dataclass(frozen=True)
class EndResponse:
    """Art. 86: the response is lifted and recovery begins."""

    on: datetime


@dataclass(frozen=True)
class CloseIncident:
    on: datetime


IncidentAction = StartResponse | ChangeResponseLevel | Regrade | EndResponse | CloseIncident


@dataclass(frozen=True)
class LevelChange:
    level: ResponseLevel | None
    on: datetime


@dataclass(frozen=True)
class Incident:
    incident_id: str
    category: str
    grade: Grade
    title: str
    location: str
    occurred_at: datetime
    state: IncidentState = IncidentState.REPORTED
    response_level: ResponseLevel | None = None
    levels: tuple[LevelChange, ...] = ()
    closed_at: datetime | None = None

    @property
    def needs_public_notice(self) -> bool:
        return needs_public_notice(self.grade)


INCIDENT_LIFECYCLE = Machine[IncidentState](
    "incident",
    {
        # A report that needs no response (false alarm, routine handling) closes directly.
        IncidentState.REPORTED: {StartResponse, Regrade, CloseIncident},
        IncidentState.RESPONDING: {ChangeResponseLevel, Regrade, EndResponse},
        IncidentState.RECOVERING: {CloseIncident},
        IncidentState.CLOSED: set(),
    },
)


def transition_incident(incident: Incident, action: IncidentAction) -> Incident:
    INCIDENT_LIFECYCLE.check(incident.state, action)
    match action:
        case StartResponse(level=level, on=on):
            return _set_level(incident, IncidentState.RESPONDING, level, on)
        case ChangeResponseLevel(level=level, on=on):
            if level is incident.response_level:
                INCIDENT_LIFECYCLE.refuse(
                    incident.state, action, f"the response is already at level {level}"
                )
            return _set_level(incident, IncidentState.RESPONDING, level, on)
        case Regrade(grade=grade):
            if grade is incident.grade:
                INCIDENT_LIFECYCLE.refuse(incident.state, action, f"the grade is already {grade}")
            return replace(incident, grade=grade)
        case EndResponse(on=on):
            return _set_level(incident, IncidentState.RECOVERING, None, on)
        case CloseIncident(on=on):
            return replace(incident, state=IncidentState.CLOSED, closed_at=on)


def _set_level(
    incident: Incident, state: IncidentState, level: ResponseLevel | None, on: datetime
) -> Incident:
    return replace(
        incident,
        state=state,
        response_level=level,
        levels=(*incident.levels, LevelChange(level, on)),
    )


@dataclass(frozen=True)
class AlertMessage:
    """One CAP message; `references` names the earlier messages an update or cancel supersedes.
    Datetimes are timezone-aware."""

    alert_id: str
    msg_type: MsgType
    level: AlertLevel
    category: str
    headline: str
    sent: datetime
    effective: datetime
    expires: datetime | None = None
    references: tuple[str, ...] = ()
    description: str = ""
    area: str = ""
    instruction: str = ""
    status: CapStatus = CapStatus.ACTUAL


class AlertState(StrEnum):
    """Where an alert chain stands at a given moment (derived, see `Alert.state_at`)."""

    PENDING = "pending"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: str
    staff_id: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class Acknowledge:
    alert_id: str
    staff_id: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class Alert:
    """A warning's chain: its first message's id names the chain; each update replaces the
    current message, a cancel ends it, and so does the current message's expiry."""

    messages: tuple[AlertMessage, ...]
    acknowledgements: tuple[Acknowledgement, ...] = ()
    cancelled_at: datetime | None = None

    @property
    def alert_id(self) -> str:
        return self.messages[0].alert_id

    @property
    def current(self) -> AlertMessage:
        """The message in force: the latest alert or update (a cancel only ends the chain)."""
        return self._warnings()[-1]

    @property
    def level(self) -> AlertLevel:
        return self.current.level

    @property
    def status(self) -> CapStatus:
        return self.messages[0].status

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(m.alert_id for m in self.messages)

    def state_at(self, at: datetime) -> AlertState:
        """Judged by the message that was current at `at` (the first one before it was sent)."""
        if self.cancelled_at is not None and at >= self.cancelled_at:
            return AlertState.CANCELLED
        sent = [m for m in self._warnings() if m.sent <= at]
        then = sent[-1] if sent else self.messages[0]
        if then.expires is not None and at >= then.expires:
            return AlertState.EXPIRED
        if at < then.effective:
            return AlertState.PENDING
        return AlertState.IN_FORCE

    def _warnings(self) -> tuple[AlertMessage, ...]:
        return tuple(m for m in self.messages if m.msg_type is not MsgType.CANCEL)

    def acknowledged(self) -> bool:
        """Each update asks for a fresh acknowledgement: the level or the instructions changed."""
        return any(a.alert_id == self.current.alert_id for a in self.acknowledgements)


def is_public(alert: Alert | AlertMessage) -> bool:
    return alert.status is CapStatus.ACTUAL


def needs_acknowledgement(alert: Alert) -> bool:
    """Staff acknowledge real warnings and drills; tests, system messages and drafts are not
    acted upon (CAP), so nobody is chased for them."""
    return alert.status in (CapStatus.ACTUAL, CapStatus.EXERCISE)


def acknowledgement_overdue(alert: Alert, now: datetime, window: timedelta) -> bool:
    """The window runs from the current message's `sent`; an ended alert is never overdue."""
    return (
        needs_acknowledgement(alert)
        and alert.state_at(now) in (AlertState.PENDING, AlertState.IN_FORCE)
        and not alert.acknowledged()
        and now >= alert.current.sent + window
    )


ACKNOWLEDGEMENT_WINDOWS: dict[AlertLevel, timedelta | None] = {
    AlertLevel.RED: timedelta(minutes=5),
    AlertLevel.ORANGE: timedelta(minutes=15),
    AlertLevel.YELLOW: timedelta(minutes=60),
    AlertLevel.BLUE: None,
}
"""How long staff have to acknowledge a message of each level before it is escalated (blue
warnings are watched, not chased). Settings may override each one."""


def expired(alert: Alert, message_id: str, now: datetime) -> bool:
    """Whether `message_id`, still the chain's message in force, has run out by `now`."""
    return alert.current.alert_id == message_id and alert.state_at(now) is AlertState.EXPIRED


class MessageStatus(StrEnum):
    """A message as readers see it: in force (or about to be), replaced by an update, ended by
    a cancel, or run out."""

    ACTIVE = "active"
    REPLACED = "replaced"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def minute_bucket(at: datetime) -> str:
    """The minute of `at` in China time (`2026-07-20T14:05`): timers find what falls due in a
    minute by equality on it (docs/architecture.md, Storage)."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M")


def minute_buckets(start: datetime, end: datetime) -> list[str]:
    """Every minute from `start`'s to `end`'s, both included (none when `end` is earlier)."""
    first = start.astimezone(CHINA_TZ).replace(second=0, microsecond=0)
    last = end.astimezone(CHINA_TZ).replace(second=0, microsecond=0)
    out = []
    while first <= last:
        out.append(minute_bucket(first))
        first += timedelta(minutes=1)
    return out


def raised(before: Alert, after: Alert) -> bool:
    """An update raised the warning level (art. 70 调整预警级别): supervision opens an item."""
    return after.level.rank > before.level.rank


_ALERT_ACTIONS = ("acknowledge", "cancel", "update")
AlertAction = AlertMessage | Acknowledge


def issue_alert(message: AlertMessage) -> Alert:
    if message.msg_type is not MsgType.ALERT or message.references:
        raise IllegalTransition(
            "alert",
            "none",
            message.msg_type,
            ("alert",),
            "a chain starts with msgType alert and no references",
        )
    return Alert((message,))


def transition_alert(alert: Alert, action: AlertAction) -> Alert:
    """Apply an update, a cancel or an acknowledgement. Updates and cancels must reference a
    message of this chain, keep its CAP status, and come while the chain is pending or in force;
    after expiry or cancel a new warning is a new alert."""
    at = action.sent if isinstance(action, AlertMessage) else action.acknowledged_at
    state = alert.state_at(at)
    ended = state in (AlertState.EXPIRED, AlertState.CANCELLED)
    allowed = () if ended else _ALERT_ACTIONS
    name = action.msg_type.value if isinstance(action, AlertMessage) else action_name(action)

    def refuse(reason: str | None = None) -> IllegalTransition:
        return IllegalTransition("alert", state, name, allowed, reason)

    if name not in allowed:
        raise refuse()
    if isinstance(action, Acknowledge):
        if action.alert_id not in alert.ids:
            raise refuse(f"{action.alert_id} is not a message of alert {alert.alert_id}")
        return replace(
            alert,
            acknowledgements=(
                *alert.acknowledgements,
                Acknowledgement(action.alert_id, action.staff_id, action.acknowledged_at),
            ),
        )
    if action.alert_id in alert.ids:
        raise refuse(f"message {action.alert_id} is already in the chain")
    if not alert.ids.intersection(action.references):
        raise refuse(f"it references none of {sorted(alert.ids)}")
    if action.status is not alert.status:
        raise refuse(f"status {action.status} differs from the chain's {alert.status}")
    if action.msg_type is MsgType.CANCEL:
        return replace(alert, messages=(*alert.messages, action), cancelled_at=action.sent)
    return replace(alert, messages=(*alert.messages, action))


NOTICE_LEVELS = frozenset({AlertLevel.ORANGE, AlertLevel.RED})
"""Warnings the public is told of on the portal (权威信息发布): actual orange and red ones."""


def alert_needs_notice(alert: Alert) -> bool:
    """An actual orange or red warning: drills, tests and drafts never reach the public."""
    return is_public(alert) and alert.level in NOTICE_LEVELS


def notice_change(published: bool, wanted: bool, ended: bool) -> NoticeState | None:
    """What happens to a source's public notice: first `active` when it comes to need one,
    `updated` while it still does, `withdrawn` when it ends or no longer needs one (a warning
    lowered to yellow); nothing for a source that never had one and does not need one."""
    if not published:
        return NoticeState.ACTIVE if wanted and not ended else None
    if ended or not wanted:
        return NoticeState.WITHDRAWN
    return NoticeState.UPDATED
