"""The worker's alert timers: messages that ran out expire, messages nobody acknowledged in
their level's window are escalated. Each tick finds candidates by equality on a minute bucket,
asks the domain, and publishes derived events with deterministic ids (a tick run twice, or by
two workers, publishes the same event, which the consumers take once)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from emergency.config import Settings
from emergency.domain import (
    Alert,
    MessageStatus,
    acknowledgement_overdue,
    expired,
    minute_buckets,
)
from emergency.metrics import emergency_metrics
from emergency.store import ACK_BUCKET, ALERTS, EXPIRES_BUCKET, TIMERS
from fazhi.bus import Timer, TimerContext
from fazhi.contracts import derived_event
from fazhi.contracts.emergency import AlertEscalated, AlertExpired, AlertLevel, CapStatus
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.contracts.models import Payload
from fazhi.store import decode

LOOKBACK = timedelta(hours=24)
"""How far back a timer looks after its worker was stopped (a day at most)."""
FIRST_LOOK = timedelta(hours=1)
"""How far back a timer looks the first time it ever runs."""


def expiry_event(doc: dict[str, Any], alert: Alert, now: datetime) -> CloudEvent | None:
    """`emergency.alert.expired` for an active message, the chain's message in force, whose
    `expires` has come (the domain decides; the time is the chain's own, to the microsecond)."""
    if doc.get("status") != MessageStatus.ACTIVE or not expired(alert, doc["_id"], now):
        return None
    at = alert.current.expires
    assert at is not None
    data = AlertExpired(alert_id=doc["_id"], chain_id=doc["chain_id"], expired_at=at)
    return _event(data, doc, at)


def escalation_event(
    doc: dict[str, Any], alert: Alert, window: timedelta, now: datetime
) -> CloudEvent | None:
    """`emergency.alert.escalated` for the chain's message in force that no one acknowledged
    within `window` (the domain decides: not after the chain ended, not for tests)."""
    if doc.get("acknowledged") or doc.get("escalated_at") is not None:
        return None
    if alert.current.alert_id != doc["_id"] or not acknowledgement_overdue(alert, now, window):
        return None
    sent = alert.current.sent
    data = AlertEscalated(
        alert_id=doc["_id"],
        chain_id=doc["chain_id"],
        level=alert.level,
        unit=doc["unit"],
        issued_at=sent,
        window_minutes=int(window.total_seconds() // 60),
        window_seconds=int(window.total_seconds()),
        escalated_at=sent + window,
    )
    return _event(data, doc, sent + window)


def _event(data: Payload, doc: dict[str, Any], at: datetime) -> CloudEvent:
    return derived_event(
        data, cause=doc["_id"], source=f"/units/{doc['unit']}", time=at.astimezone(CHINA_TZ)
    )


async def expire_alerts(t: TimerContext[Settings]) -> None:
    now = t.now()
    since = await _looked_through(t, "alert-expiry", now)
    events = []
    for bucket in minute_buckets(since, now):
        async for doc in t.db[ALERTS].find({EXPIRES_BUCKET: bucket}):
            head = await _head(t, doc)
            event = expiry_event(doc, head, now) if head is not None else None
            if event is not None:
                events.append(event)
    await t.publish(events)
    await _looked(t, "alert-expiry", now)
    await _count_active(t)


async def _count_active(t: TimerContext[Settings]) -> None:
    counts = {(level, status): 0 for level in AlertLevel for status in CapStatus}
    async for doc in t.db[ALERTS].find(
        {"status": str(MessageStatus.ACTIVE)}, {"level": 1, "cap_status": 1}
    ):
        key = (AlertLevel(doc["level"]), CapStatus(doc.get("cap_status", "actual")))
        counts[key] = counts.get(key, 0) + 1
    gauge = emergency_metrics().active_alerts
    for (level, status), n in counts.items():
        gauge.labels(level=str(level), cap_status=str(status)).set(n)


async def escalate_alerts(t: TimerContext[Settings]) -> None:
    now = t.now()
    since = await _looked_through(t, "alert-escalation", now)
    events = []
    for level, window in t.settings.ack_windows().items():
        for bucket in minute_buckets(since - window, now - window):
            events += await _overdue(t, bucket, level, window, now)
    await t.publish(events)
    await _looked(t, "alert-escalation", now)


async def _overdue(
    t: TimerContext[Settings], bucket: str, level: AlertLevel, window: timedelta, now: datetime
) -> list[CloudEvent]:
    found = []
    async for doc in t.db[ALERTS].find({ACK_BUCKET: bucket}):
        if doc.get("level") != level or doc.get("status") != MessageStatus.ACTIVE:
            continue
        head = await _head(t, doc)
        if head is None:
            continue
        event = escalation_event(doc, head, window, now)
        if event is not None:
            found.append(event)
    return found


async def _head(t: TimerContext[Settings], doc: dict[str, Any]) -> Alert | None:
    """The chain a message belongs to, as its first message keeps it."""
    head = doc if "chain" in doc else await t.db[ALERTS].find_one({"_id": doc["chain_id"]})
    return decode(Alert, head["chain"]) if head is not None and "chain" in head else None


async def _looked_through(t: TimerContext[Settings], name: str, now: datetime) -> datetime:
    doc = await t.db[TIMERS].find_one({"_id": name})
    through = doc.get("through") if doc else None
    return max(through, now - LOOKBACK) if isinstance(through, datetime) else now - FIRST_LOOK


async def _looked(t: TimerContext[Settings], name: str, now: datetime) -> None:
    # The minute of `now` is looked through again next time: it may still fill.
    await t.db[TIMERS].replace_one({"_id": name}, {"through": now}, upsert=True)


def _interval(settings: Settings) -> float:
    return settings.timer_interval_s


TIMERS_OF_ALERTS = (
    Timer("alert-expiry", _interval, expire_alerts),
    Timer("alert-escalation", _interval, escalate_alerts),
)
