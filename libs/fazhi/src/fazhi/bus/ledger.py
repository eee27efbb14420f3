"""The processed-events ledger: one entry per event (`source` + `id`), claimed with the batch and settled with its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    refusal: dict[str, Any] | None = None
    receipt: dict[str, Any] = field(default_factory=dict)
    """What its ledger entry says of the aggregate it applies to (its receipt)."""


def _ledger_fields(record: Record, event: CloudEvent) -> dict[str, Any]:
    """What an entry keeps of the record: with its subject and time, the receipt it is needs
    no note of the api's (`fazhi.receipts`)."""
    fields: dict[str, Any] = {
        "source": event.source,
        "id": event.id,
        "type": event.type,
        "subject": event.subject,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }
    if record.time is not None:
        fields["time"] = record.time
    return fields


def _ledger_changes(item: _Item) -> bool:
    """Whether the item's ledger entry needs a write of its own (the batch's claim covers the
    entries it inserted and applied): an event refused or ignored, one applied again after a
    refusal, a receipt whose version moved (another writer came between), a re-post."""
    if item.reposted:
        assert item.prior is not None
        return not _same_record(item.prior.get("duplicate") or {}, item.record)
    if item.prior is None:
        return item.outcome in (Outcome.IGNORED, Outcome.DEAD_LETTERED)
    # A record replayed after its batch was written (DUPLICATE) keeps the version it gave.
    moved = item.outcome is Outcome.APPLIED and item.prior.get("version") != item.receipt.get(
        "version"
    )
    return (
        item.prior.get("outcome") != _ledger_outcome(item.outcome)
        or not _same_record(item.prior, item.record)
        or moved
    )


def _correction(item: _Item, now: datetime) -> dict[str, Any]:
    """The fields the item's ledger entry (its receipt) is corrected with."""
    if item.reposted:  # the first record stays the entry's; the re-post is noted beside it
        record = item.record
        return {
            "duplicate": {
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "at": now,
            }
        }
    fields = {
        **_ledger_fields(item.record, item.event),
        "outcome": _ledger_outcome(item.outcome),
        "processed_at": now,
        "refusal": item.refusal,
    }
    if item.outcome is Outcome.APPLIED:
        fields.update(item.receipt)
    return fields


def _same_record(entry: Document, record: Record) -> bool:
    return (entry.get("topic"), entry.get("partition"), entry.get("offset")) == (
        record.topic,
        record.partition,
        record.offset,
    )


def _ledger_outcome(outcome: Outcome | None) -> str:
    # A replayed record whose aggregate had it already was applied (before the crash).
    return str(Outcome.APPLIED if outcome in (None, Outcome.DUPLICATE) else outcome)
