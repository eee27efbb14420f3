"""The audit trail: every record of a service's own topic about an aggregate (its `subject`), in
log order, with what became of it, each entry chained by hash to the one before it.

The worker writes it with each batch (`append`): one entry per record, keyed by its log position
(`<topic>~<partition>~<offset>`, so a replayed batch writes nothing twice), in the service's
`audit` collection (found by `aggregate`, an indexed equality), beside the batch's timeline rows,
and the head of each aggregate's chain in `audit_heads` (`_id`: the aggregate; its last sequence
number, hash and position) after the batch's aggregates. An entry says who posted the event (the source's unit and the id of
the API key, the `keyid` extension the api sets; none for a derived event), when it happened
(the event's `time`), its type and id, the receipt's outcome and the log position. Its hash
covers all of that and the previous entry's hash, so an entry removed, added or altered is
found by recomputing the chain (`verify`, `fazhi audit verify`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import KEY_ID, CloudEvent
from fazhi.store.projection import VERSION, Document, HotQuery, Save

AUDIT = "audit"
AUDIT_HEADS = "audit_heads"
HASHED = (
    "aggregate",
    "collection",
    "seq",
    "type",
    "id",
    "source",
    "key_id",
    "time",
    "outcome",
    "topic",
    "partition",
    "offset",
    "prev",
)
"""The fields an entry's hash covers, in this order (with the previous entry's hash)."""
AUDIT_QUERIES = (
    HotQuery(AUDIT, {"aggregate": "T-2026-001"}, "GET /v1/audit/{id}: an aggregate's trail"),
    HotQuery(AUDIT_HEADS, {"_id": "T-2026-001"}, "the worker: the head of an aggregate's chain"),
)


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    """The trail is read by aggregate (an equality); the heads by `_id`."""
    await db[AUDIT].create_index("aggregate")


@dataclass(frozen=True)
class Audited:
    """One record the worker took, as the trail needs it."""

    topic: str
    partition: int
    offset: int
    event: CloudEvent
    collection: str
    """Where its aggregate is projected ("" when its type names none)."""
    outcome: str


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The SHA-256 of the entry's `HASHED` fields as canonical JSON."""
    body = json.dumps(
        [entry.get(name) for name in HASHED], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def position_id(topic: str, partition: int, offset: int) -> str:
    return f"{topic}~{partition}~{offset}"


def _entry(item: Audited, head: Mapping[str, Any]) -> Document:
    event = item.event
    key = (event.model_extra or {}).get(KEY_ID)
    entry: Document = {
        "_id": position_id(item.topic, item.partition, item.offset),
        "aggregate": event.subject,
        "collection": item.collection,
        "seq": int(head.get("seq", 0)) + 1,
        "type": event.type,
        "id": event.id,
        "source": event.source,
        "key_id": key if isinstance(key, str) else None,
        "time": event.time.isoformat(),
        "outcome": item.outcome,
        "topic": item.topic,
        "partition": item.partition,
        "offset": item.offset,
        "prev": head.get("hash", ""),
    }
    entry["hash"] = entry_hash(entry)
    return entry


def _taken(head: Mapping[str, Any] | None, item: Audited) -> bool:
    """Whether the chain has this record already (a batch replayed after a crash)."""
    if head is None or head.get("topic") != item.topic or head.get("partition") != item.partition:
        return False
    return int(head.get("offset", -1)) >= item.offset


@dataclass(frozen=True)
class Trail:
    """What a batch appends to the trail: its entries, then its chains' heads."""

    entries: list[tuple[str, Document]]
    heads: list[Save]


def append(items: Sequence[Audited], loaded: Mapping[str, Document]) -> Trail:
    """The entries of `items` (in record order) on their aggregates' chains, whose heads are
    `loaded` (`_id`: the aggregate; the worker loads them beside the batch's aggregates, and
    keeps them in its cache), and the heads after them, each guarded by its version.

    A worker writes the entries with its batch's timeline rows, replacing what has their `_id`
    (a position past its chain's head is a try that did not land: a batch tried again writes
    what it found then), and the heads after the batch's aggregates: an entry is on the trail
    once its head covers it, so a record's entry says what became of it. A record the head
    covers already (a batch replayed after a crash) gets no entry again."""
    heads: dict[str, Document] = {k: dict(v) for k, v in loaded.items()}
    entries: list[tuple[str, Document]] = []
    changed: set[str] = set()
    for item in items:
        aggregate = item.event.subject
        head = heads.get(aggregate)
        if _taken(head, item):
            continue
        entry = _entry(item, head or {})
        entries.append((AUDIT, entry))
        heads[aggregate] = {
            **(head or {}),
            "_id": aggregate,
            "seq": entry["seq"],
            "hash": entry["hash"],
            "topic": item.topic,
            "partition": item.partition,
            "offset": item.offset,
        }
        changed.add(aggregate)
    saves = []
    for aggregate in sorted(changed):
        before = loaded.get(aggregate)
        version = int(before.get(VERSION, 0)) if before is not None else None
        saves.append(Save(AUDIT_HEADS, {**heads[aggregate], VERSION: (version or 0) + 1}, version))
    return Trail(entries, saves)


@dataclass(frozen=True)
class Broken:
    """What `verify` found wrong with one aggregate's chain."""

    aggregate: str
    problem: str


def verify(
    aggregate: str, entries: Iterable[Mapping[str, Any]], head: Mapping[str, Any] | None
) -> list[Broken]:
    """Recompute one aggregate's chain: sequence numbers 1..n without a gap, each entry's `prev`
    the hash of the one before, each hash its own fields' (an altered entry), and the head at
    the last entry (an entry removed from the end, or added after it)."""
    found: list[Broken] = []
    chain = sorted(entries, key=lambda e: int(e.get("seq", 0)))
    prev = ""
    for n, entry in enumerate(chain, start=1):
        where = f"entry {entry.get('seq')} ({entry.get('_id')})"
        if entry.get("seq") != n:
            found.append(Broken(aggregate, f"{where}: expected sequence number {n} (one removed?)"))
        if entry.get("prev") != prev:
            found.append(Broken(aggregate, f"{where}: does not follow the entry before it"))
        if entry.get("aggregate") != aggregate:
            found.append(Broken(aggregate, f"{where}: is about {entry.get('aggregate')!r}"))
        if entry_hash(entry) != entry.get("hash"):
            found.append(Broken(aggregate, f"{where}: altered (its hash does not match)"))
        prev = str(entry.get("hash", ""))
    if head is None:
        if chain:
            found.append(Broken(aggregate, "entries without a head"))
    elif head.get("seq") != len(chain) or head.get("hash") != prev:
        found.append(
            Broken(
                aggregate,
                f"the head says {head.get('seq')} entries ending in {str(head.get('hash'))[:12]}, "
                f"the trail has {len(chain)} ending in {prev[:12]} (an entry removed or added)",
            )
        )
    return found


def public_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as `GET /v1/audit/{id}` answers it."""
    return {
        "seq": entry.get("seq"),
        "type": entry.get("type"),
        "id": entry.get("id"),
        "time": entry.get("time"),
        "unit": _unit(str(entry.get("source", ""))),
        "source": entry.get("source"),
        "key_id": entry.get("key_id"),
        "outcome": entry.get("outcome"),
        "position": {
            "topic": entry.get("topic"),
            "partition": entry.get("partition"),
            "offset": entry.get("offset"),
        },
        "prev": entry.get("prev"),
        "hash": entry.get("hash"),
    }


def _unit(source: str) -> str | None:
    return source.removeprefix("/units/") if source.startswith("/units/") else None
