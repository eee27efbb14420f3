"""Prometheus metrics of ingest and consumption, named with the service's package prefix."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Counter, Histogram


@dataclass(frozen=True)
class Metrics:
    ingested: Counter
    ingest_seconds: Histogram
    consumed: Counter
    handle_seconds: Histogram
    dead_lettered: Counter


@cache
def service_metrics(prefix: str) -> Metrics:
    """One set per process and prefix (the default registry refuses duplicates)."""
    return Metrics(
        ingested=Counter(
            f"{prefix}_events_ingested",
            "Events offered to POST /v1/events, by type and outcome (accepted, rejected, unavailable).",
            ["type", "outcome"],
        ),
        ingest_seconds=Histogram(
            f"{prefix}_ingest_seconds",
            "Time from request to broker acknowledgement for POST /v1/events.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ),
        consumed=Counter(
            f"{prefix}_events_consumed",
            "Records consumed by the worker, by topic, type and outcome (applied, duplicate, retried, dead_lettered).",
            ["topic", "type", "outcome"],
        ),
        handle_seconds=Histogram(
            f"{prefix}_consumer_handle_seconds",
            "Time a worker handler took per event.",
            ["topic"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        ),
        dead_lettered=Counter(
            f"{prefix}_events_dead_lettered",
            "Records sent to a .dlq topic, by source topic.",
            ["topic"],
        ),
    )
