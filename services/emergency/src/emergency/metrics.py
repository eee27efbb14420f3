"""Emergency's own metrics: active alerts by level, alert `time` → push to a staff client,
acknowledgement latency and escalations (the api and the worker each export theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


@dataclass(frozen=True)
class EmergencyMetrics:
    active_alerts: Gauge
    push_seconds: Histogram
    ack_seconds: Histogram
    escalations: Counter


@cache
def emergency_metrics() -> EmergencyMetrics:
    return EmergencyMetrics(
        active_alerts=Gauge(
            "emergency_alerts_active",
            "Active alert messages by level and CAP status, as the api last listed them.",
            ["level", "cap_status"],
        ),
        push_seconds=Histogram(
            "emergency_alert_push_seconds",
            "From an alert event's `time` to its push to one staff client (WebSocket or SSE).",
            ["channel"],
            buckets=LATENCY_BUCKETS,
        ),
        ack_seconds=Histogram(
            "emergency_alert_ack_seconds",
            "From an alert message's `sent` to its first acknowledgement by staff.",
            ["level"],
            buckets=LATENCY_BUCKETS,
        ),
        escalations=Counter(
            "emergency_alert_escalations",
            "Alerts escalated because no staff acknowledged them in their window, by level.",
            ["level"],
        ),
    )
