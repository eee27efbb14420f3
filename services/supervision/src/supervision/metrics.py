"""Supervision's own Prometheus metrics: the delay from a trigger to its item (worker), and the
state of the plan and the items (api, refreshed from the store)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from prometheus_client import Gauge, Histogram


@dataclass(frozen=True)
class SupervisionMetrics:
    trigger_to_item: Histogram
    overdue_tasks: Gauge
    open_items: Gauge


@cache
def supervision_metrics() -> SupervisionMetrics:
    return SupervisionMetrics(
        trigger_to_item=Histogram(
            "supervision_trigger_to_item_seconds",
            "Delay from a trigger event's `time` to its supervision item being opened, by kind.",
            ["kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
        ),
        overdue_tasks=Gauge(
            "supervision_overdue_tasks",
            "Measures, tasks and milestones past due and unfinished, by unit that answers for them.",
            ["unit"],
        ),
        open_items=Gauge(
            "supervision_open_items",
            "Supervision items not closed, by kind, level and status.",
            ["kind", "level", "status"],
        ),
    )
