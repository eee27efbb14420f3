"""What a unit is told and how 推送: which events concern which unit (the unit filter), the
body each delivery carries, which URLs may receive them, and when a failed delivery is tried
again. Pure: no I/O."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from fazhi.bus import REFUSAL_HEADER
from fazhi.contracts import all_topics, type_of
from fazhi.contracts.emergency import AlertEscalated, AlertExpired, AlertIssued
from fazhi.contracts.envelope import (
    CHINA_TZ,
    CloudEvent,
    EnvelopeFieldsError,
    derived_id,
    from_kafka,
    new_event,
)
from fazhi.contracts.mediation import CaseDueSoon, CaseOverdue
from fazhi.contracts.models import personal_fields
from fazhi.contracts.opengov import RequestDueSoon, RequestOverdue
from fazhi.contracts.strictjson import EnvelopeError
from fazhi.contracts.supervision import (
    ItemClosed,
    ItemEscalated,
    ItemOpened,
    TaskDueSoon,
    TaskOverdue,
)
from fazhi.receipts.refusals import REFUSED_TYPE, RefusalProblem, RefusedReceipt
from fazhi.roles import Role
from fazhi.rules import redact
from fazhi.topology import DLQ_SUFFIX, SERVICES


class Kind(StrEnum):
    """What a subscription asks for."""

    RECEIPTS = "receipts"
    """The unit's own events the domain refused (回执)."""
    ITEMS = "items"
    """Supervision items opened, escalated and closed against the unit (督办, 约谈, 通报)."""
    TASKS = "tasks"
    """Reminders (14 and 3 days before) and overdue notices of the unit's plan tasks."""
    CLOCKS = "clocks"
    """Statutory clocks about to pass (临期) and passed on cases and disclosure requests the unit
    must act on."""
    ALERTS = "alerts"
    """Emergency alerts as staff consoles see them: for staff units (staff or operator keys)."""


KIND_ROLES: Mapping[Kind, frozenset[Role]] = {
    Kind.RECEIPTS: frozenset({Role.DEPARTMENT}),
    Kind.ITEMS: frozenset({Role.DEPARTMENT}),
    Kind.TASKS: frozenset({Role.DEPARTMENT}),
    Kind.CLOCKS: frozenset({Role.DEPARTMENT}),
    Kind.ALERTS: frozenset({Role.STAFF}),
}
"""Which keys of a unit may subscribe it to each kind (operators: any kind, any unit)."""

REFUSED = REFUSED_TYPE

UNIT_TYPES: Mapping[str, Kind] = {
    type_of(ItemOpened): Kind.ITEMS,
    type_of(ItemEscalated): Kind.ITEMS,
    type_of(ItemClosed): Kind.ITEMS,
    type_of(TaskDueSoon): Kind.TASKS,
    type_of(TaskOverdue): Kind.TASKS,
    type_of(CaseDueSoon): Kind.CLOCKS,
    type_of(CaseOverdue): Kind.CLOCKS,
    type_of(RequestDueSoon): Kind.CLOCKS,
    type_of(RequestOverdue): Kind.CLOCKS,
}
"""Event types addressed to one unit, the unit named by their `data.unit`."""

ALERT_TYPES = frozenset(type_of(kind) for kind in (AlertIssued, AlertEscalated, AlertExpired))
"""Alerts, for every staff unit (as the staff console shows them)."""

TEXT_FIELDS = ("title", "reason", "resolution", "note")
"""Free texts of the delivered events: redacted again before they leave (a title can quote
whatever the finding or the case said)."""

TOPICS = tuple(topic for service in SERVICES for topic in service.topics)
"""Every event topic (what units are told of) and every dead-letter twin (refusals)."""

NOTICE_TYPES = frozenset({*UNIT_TYPES, *ALERT_TYPES})
"""Every type some unit is told of (their `ce_type` header is read before anything is parsed)."""


@dataclass(frozen=True)
class Notice:
    """One thing to tell: the unit it concerns (None: every staff unit, an alert), what kind
    of thing it is, and the CloudEvent that says it."""

    unit: str | None
    kind: Kind
    event: CloudEvent

    def concerns(self, unit: str, kinds: Sequence[str], staff: bool) -> bool:
        """Whether a subscription of `unit` to `kinds` (made by a staff key: `staff`) gets it."""
        if self.kind not in kinds:
            return False
        if self.unit is None:
            return staff
        return self.unit == unit


def _models() -> dict[str, Any]:
    return {name: c.model for topic in all_topics() for name, c in topic.types.items()}


_MODELS: dict[str, Any] = {}


def deliverable(event: CloudEvent) -> CloudEvent:
    """The event as a unit may read it: every field marked personal in its contract read as
    erased (whatever it held, sealed or not), free texts redacted."""
    if not _MODELS:
        _MODELS.update(_models())
    data = dict(event.data)
    model = _MODELS.get(event.type)
    if model is not None:
        for name, erased in personal_fields(model).items():
            if name in data:
                data[name] = erased
    for name in TEXT_FIELDS:
        if isinstance(data.get(name), str):
            data[name] = redact(data[name]).text
    return event.model_copy(update={"data": data})


def refused_notice(
    event: CloudEvent, refusal: Mapping[str, Any], *, at: datetime, record: str
) -> CloudEvent:
    """`fazhi.receipt.refused`: the unit's event was refused; its receipt, as the owner's
    worker wrote it (never the event's data). Its id follows from the event and the `record`
    it came in (`topic/partition/offset`), so a dead letter read twice tells it once, while the
    event posted again and refused again tells it again."""
    problem = RefusalProblem.model_validate(
        {k: v for k, v in refusal.items() if k in RefusalProblem.model_fields}
    )
    data = RefusedReceipt(
        event_id=event.id,
        event_type=event.type,
        event_time=event.time,
        problem=problem,
        receipt=f"/v1/events/{event.id}",
    )
    return new_event(
        type=REFUSED,
        source=event.source,
        subject=event.subject,
        id=derived_id(f"{event.key} {record}", REFUSED),
        time=at,
        data=data.model_dump(mode="json", exclude_none=True),
    )


def notices(event: CloudEvent) -> list[Notice]:
    """What `event` (as a topic carries it) tells which unit: nothing, for most events."""
    kind = UNIT_TYPES.get(event.type)
    if kind is not None:
        unit = event.data.get("unit")
        return [Notice(unit, kind, deliverable(event))] if isinstance(unit, str) else []
    if event.type in ALERT_TYPES:
        return [Notice(None, Kind.ALERTS, deliverable(event))]
    return []


def refusal_notices(
    event: CloudEvent, refusal: Mapping[str, Any] | None, *, at: datetime, record: str
) -> list[Notice]:
    """A dead letter of the event's owner tells the unit that posted it (its `source`); one of
    another service's reaction, or of a record that is no event, tells nobody."""
    if refusal is None or event.unit is None:
        return []
    notice = refused_notice(event, refusal, at=at, record=record)
    return [Notice(event.unit, Kind.RECEIPTS, notice)]


# --- where deliveries may go ------------------------------------------------------------


class UrlRefused(ValueError):
    """A subscription URL the platform will not call."""


_PRIVATE_NAMES = ("localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa")
MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class UrlPolicy:
    """Deliveries go to HTTPS URLs on public addresses only: a subscription must not become a
    way into the platform's own network. `allow_private` (development and tests only) also
    lets plain HTTP and loopback or private addresses through."""

    allow_private: bool = False

    def check(self, url: str) -> str:
        """The URL as it will be called, or `UrlRefused` saying why not. A host name is
        checked again, resolved, at every delivery (`address_allowed`)."""
        if len(url) > MAX_URL_LENGTH:
            raise UrlRefused(f"longer than {MAX_URL_LENGTH} characters")
        if any(ord(c) <= 32 or ord(c) == 127 for c in url):
            raise UrlRefused("contains spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UrlRefused(f"not a URL: {exc}") from exc
        schemes = ("https", "http") if self.allow_private else ("https",)
        if parts.scheme not in schemes:
            raise UrlRefused(f"must be {' or '.join(schemes)}")
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("must not carry a user name or password")
        if parts.fragment:
            raise UrlRefused("must not have a fragment")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UrlRefused("has no host")
        if port == 0:
            raise UrlRefused("port 0")
        literal = _ip(host)
        if literal is not None and not self.address_allowed(literal):
            raise UrlRefused(f"{host} is not a public address")
        if literal is None and not self.allow_private and _private_name(host):
            raise UrlRefused(f"{host} names this platform's own network")
        return parts.geturl()

    def address_allowed(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether a delivery may connect to `address` (a resolved one, at delivery time)."""
        ip = _ip(address) if isinstance(address, str) else address
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_unspecified or ip.is_multicast:
            return False
        if ip.is_global:
            return True
        return self.allow_private and (ip.is_private or ip.is_loopback or ip.is_link_local)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _private_name(host: str) -> bool:
    host = host.lower()
    return host == "localhost" or host.endswith(_PRIVATE_NAMES) or "." not in host


# --- when a failed delivery is tried again -------------------------------------------------

DEFAULT_RETRIES = "5,300,1800,7200,18000,36000,36000"
"""Seconds after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (Standard
Webhooks' schedule): eight attempts over 27 h 35 min, so a receiver down for a day still gets
everything."""


@dataclass(frozen=True)
class RetrySchedule:
    delays_s: tuple[float, ...]

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
        if not delays or any(d < 0 for d in delays):
            raise ValueError(
                "a retry schedule is one or more non-negative seconds, comma-separated"
            )
        return cls(delays)

    @property
    def attempts(self) -> int:
        """Attempts in all, the first included."""
        return len(self.delays_s) + 1

    @property
    def span(self) -> timedelta:
        """From the first attempt to the last."""
        return timedelta(seconds=sum(self.delays_s))

    def next_at(self, failed: int, at: datetime) -> datetime | None:
        """When to try again after `failed` attempts failed, the last at `at`; None: give up."""
        if failed < 1 or failed > len(self.delays_s):
            return None
        return at + timedelta(seconds=self.delays_s[failed - 1])


def minute_slot(at: datetime) -> str:
    """The minute a retry falls due, in China time (`2026-07-20T14:05`): the retry scan finds
    what is due by equality on it (docs/architecture.md, Storage)."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M")


def day_slot(at: datetime) -> str:
    return at.astimezone(CHINA_TZ).date().isoformat()


MAX_MINUTES = 120
"""A scan reaching further back than this reads whole days (a worker down for hours)."""


def scan_slots(since: datetime, now: datetime) -> list[tuple[str, str]]:
    """The equality lookups of one retry scan from `since` to `now`, both included: each
    minute, or each day when the span is long; `("minute", "2026-07-20T14:05")`."""
    first = since.astimezone(CHINA_TZ).replace(second=0, microsecond=0)
    last = now.astimezone(CHINA_TZ).replace(second=0, microsecond=0)
    if first > last:
        return []
    if (last - first) > timedelta(minutes=MAX_MINUTES):
        days = []
        day = first.date()
        while day <= last.date():
            days.append(("day", day.isoformat()))
            day += timedelta(days=1)
        return days
    minutes = []
    while first <= last:
        minutes.append(("minute", minute_slot(first)))
        first += timedelta(minutes=1)
    return minutes


def disable_after(gave_up_first_attempt: datetime, last_success: datetime | None) -> bool:
    """A subscription is disabled when a delivery exhausted its schedule and nothing reached
    its URL since that delivery was first tried: the receiver has been failing for the whole
    schedule (a day or more), not just refusing one body."""
    return last_success is None or last_success < gave_up_first_attempt


def delivery_id(subscription_id: str, event: CloudEvent) -> str:
    """The id of the delivery of `event` to a subscription: the `webhook-id` a receiver drops
    duplicates by (the same every attempt and every time the event is read again)."""
    return "msg_" + derived_id(subscription_id, event.key).replace("-", "")


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None


def record_notices(
    topic: str, headers: Sequence[tuple[str, bytes]], value: bytes | None, at: datetime
) -> list[Notice]:
    """What one Kafka record tells which unit: an event of a type units are told of, or a dead
    letter with the owner's refusal (`fazhi.bus.consumer.REFUSAL_HEADER`). Records of other types
    are passed over on their `ce_type` header, unparsed."""
    if value is None:
        return []
    if topic.endswith(DLQ_SUFFIX):
        refusal = _header(headers, REFUSAL_HEADER)
        if refusal is None:
            return []
        try:
            event = from_kafka(value)
            found = json.loads(refusal)
        except (EnvelopeError, EnvelopeFieldsError, ValueError):
            return []
        record = "/".join(
            _header(headers, f"fazhi-original-{part}") or ""
            for part in ("topic", "partition", "offset")
        )
        return refusal_notices(event, found, at=at, record=record)
    kind = _header(headers, "ce_type")
    if kind is not None and kind not in NOTICE_TYPES:
        return []
    try:
        event = from_kafka(value)
    except (EnvelopeError, EnvelopeFieldsError):
        return []
    return notices(event)
