"""The processed-events ledger: one entry per event (`source` + `id`), claimed with the batch and settled with its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fazhi.bus.records import Outcome, Record
from fazhi.contracts.envelope import (
    CloudEvent,
)
from fazhi.store.projection import (
    LEDGER,
    Document,
    HotQuery,
)

LEDGER_QUERIES = (
    HotQuery(LEDGER, {"_id": "/units/justice 42"}, "the worker: an event claimed twice"),
)
"""The ledger is found by `_id` (the event's key: `source` + `id`) and needs no other index."""


@dataclass
class _Item:
    record: Record
    event: CloudEvent
    prior: Document | None
    reposted: bool = False
    outcome: Outcome | None = None
    error: str = ""
    attempts: int = 0
    seconds: float = 0.0
    erased: tuple[str, ...] = ()
    """Its personal fields that read as erased (their data key is gone)."""


def _ledger_fields(record: Record, event: CloudEvent) -> dict[str, Any]:
    return {
        "source": event.source,
        "id": event.id,
        "type": event.type,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }


def _ledger_changes(item: _Item) -> bool:
    """Whether the item's ledger entry needs a write of its own (the batch's update covers the
    entries it inserted and applied)."""
    if item.reposted:
        return False
    if item.prior is None:
        return item.outcome in (Outcome.IGNORED, Outcome.DEAD_LETTERED)
    return item.prior.get("outcome") != _ledger_outcome(item.outcome) or not _same_record(
        item.prior, item.record
    )


def _same_record(entry: Document, record: Record) -> bool:
    return (entry.get("topic"), entry.get("partition"), entry.get("offset")) == (
        record.topic,
        record.partition,
        record.offset,
    )


def _ledger_outcome(outcome: Outcome | None) -> str:
    # A replayed record whose aggregate had it already was applied (before the crash).
    return str(Outcome.APPLIED if outcome in (None, Outcome.DUPLICATE) else outcome)
