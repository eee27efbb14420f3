"""Replay: rebuild every projection of a service from its log, into a fresh database.

The records of every topic the service's worker consumes are read from offset 0 up to where
each partition ends when the replay starts, merged across partitions in the order the broker
stamped them (as a live worker meets them, more or less), and applied in batches by the
worker's own `EventProcessor`: the same handlers, ledger, audit trail, upcasting of older
contract versions and unsealing of personal data (the live database's data keys, read only: a
shredded key reads as erased, exactly as in the worker). Nothing is published: the events the
handlers derive are collected, and each one on a topic the replay read must be in the log
already (a derived event's id is deterministic, so the copy the live worker published is found
by its key); dead letters are counted, not sent.

What is not a projection of the log is carried over from the live database as it is before the
replay starts (`WorkerEntry.carried`, and the day scans' watermarks): the timers' watermarks
(what the timers derived is in the log; where they looked up to is not) and the registries the
api keeps (document numbers). The worker's own start-up (`ensure_indexes`: indexes, the plan's
catalogue) runs on the target first.

`compare` then sets the rebuilt database beside the live one, document by document, leaving out
the fields that record when or in which batch a record was processed (`PROCESSING_FIELDS`)."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus import audit
from fazhi.bus.batch import AggregateCache
from fazhi.bus.consumer import EventProcessor
from fazhi.bus.publisher import Placement
from fazhi.bus.reactions import Reactions, subscribe
from fazhi.bus.records import DeadLetter, Record
from fazhi.bus.timers import DayScan, Timer
from fazhi.contracts.envelope import CloudEvent
from fazhi.kafkaclient import KafkaClient, kafka_options
from fazhi.metrics import service_metrics
from fazhi.settings import ServiceSettings
from fazhi.store import retention
from fazhi.store.catalog import EventCatalog
from fazhi.store.connect import IndexSetup
from fazhi.store.projection import LEDGER, POSITIONS, VERSION, Document, MongoStore
from fazhi.store.sealing import DATA_KEYS, Keyring, MongoDataKeys

Db = AsyncDatabase[dict[str, Any]]

PROCESSING_FIELDS: Mapping[str, tuple[str, ...]] = {
    "*": (VERSION, POSITIONS),
    LEDGER: ("processed_at", "duplicate.at", "version"),
}
"""Fields that record processing, not the log, left out by `compare`: by collection ("*": all).
`_v` counts the saves of a document (one per batch that changed it, and batches differ); `_pos`
holds, per partition, the last record that changed it, which follows the order the worker met
records of different partitions in (an item opened by its trigger's batch, or by its own
`item.opened` record read first, takes one position or the other; a replay merges partitions
by broker time); a ledger entry's `processed_at` and a re-post's `duplicate.at` are the clock of the worker that
took it; its `version` is the aggregate's `_v` after that batch."""
NOT_REBUILT = (DATA_KEYS, "accepted_events")
"""Never written by a replay: the data keys stay in the live database only (a copy would outlive
a shredding), and the api's notes of accepted records are not events."""
BATCH = 500


class ReadOnlyKeys:
    """The live database's data keys for a replay: read, never created or deleted. A key a
    derived event would be sealed with and that does not exist is made up and forgotten (the
    event is not published)."""

    def __init__(self, keys: MongoDataKeys) -> None:
        self.keys = keys

    async def find(self, ids: Sequence[str]) -> dict[str, Document]:
        return await self.keys.find(ids)

    async def create(self, doc: Document) -> Document:
        return doc

    async def delete(self, ids: Sequence[str]) -> int:
        return 0


@dataclass
class CollectingPublisher:
    """What the handlers derive during a replay, kept instead of published."""

    derived: list[tuple[str, CloudEvent]] = field(default_factory=list)

    async def publish(
        self, topic: str, events: Sequence[CloudEvent], *, encoded: Sequence[bytes] | None = None
    ) -> list[Placement]:
        self.derived.extend((topic, event) for event in events)
        return [Placement(topic, -1, -1, event.time) for event in events]

    async def ready(self) -> bool:
        return True


@dataclass
class Replayed:
    """What a replay did."""

    database: str
    records: Counter[str] = field(default_factory=Counter)
    """By topic."""
    outcomes: Counter[str] = field(default_factory=Counter)
    derived: int = 0
    derived_missing: list[str] = field(default_factory=list)
    """Keys of derived events on a replayed topic that the log does not hold."""
    derived_elsewhere: int = 0
    """Derived events on topics the replay did not read (not checked)."""
    carried: dict[str, int] = field(default_factory=dict)
    setup_seconds: float = 0.0
    """Copying what is carried over and the worker's start-up (indexes, the plan's catalogue)."""
    seconds: float = 0.0
    """The whole replay, the setup included."""

    @property
    def total(self) -> int:
        return sum(self.records.values())

    @property
    def rate(self) -> float:
        """Records per second, the setup left out."""
        applying = self.seconds - self.setup_seconds
        return self.total / applying if applying > 0 else 0.0

    def summary(self) -> str:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        lines = [
            f"replayed {self.total} records into {self.database} in {self.seconds:.1f} s "
            f"({self.rate:.0f} events/s after {self.setup_seconds:.1f} s of setup): "
            f"{outcomes or 'none'}",
            "  " + ", ".join(f"{t} {n}" for t, n in sorted(self.records.items())),
            f"  derived {self.derived} events: {self.derived - len(self.derived_missing)} "
            f"found in the log, {len(self.derived_missing)} missing, "
            f"{self.derived_elsewhere} on topics not replayed",
        ]
        lines += [f"  missing from the log: {key}" for key in self.derived_missing[:20]]
        if self.carried:
            kept = ", ".join(f"{c} {n}" for c, n in sorted(self.carried.items()))
            lines.append(f"  carried over from the live database: {kept}")
        return "\n".join(lines)


class Progress:
    """Records read per topic, out of what each held when the replay began: one line, redrawn
    in place on a terminal, printed every `every_s` otherwise."""

    def __init__(self, totals: Mapping[str, int], out: TextIO, every_s: float = 0.5) -> None:
        self.totals = dict(totals)
        self.done: Counter[str] = Counter()
        self.out = out
        self.tty = out.isatty()
        self.every_s = every_s if self.tty else max(every_s, 10.0)
        self._last = 0.0

    def add(self, topic: str, n: int = 1) -> None:
        self.done[topic] += n
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._draw()

    def _line(self) -> str:
        parts = []
        for topic, total in self.totals.items():
            done = self.done[topic]
            width = 20
            filled = width * done // total if total else width
            parts.append(f"{topic} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        return "  ".join(parts)

    def _draw(self) -> None:
        if self.tty:
            self.out.write("\r" + self._line())
        else:
            self.out.write(self._line() + "\n")
        self.out.flush()

    def finish(self) -> None:
        self._draw()
        if self.tty:
            self.out.write("\n")
        self.out.flush()


async def log_records(
    kafka: KafkaClient | str,
    topics: Sequence[str],
    *,
    on_ends: Callable[[Mapping[str, int]], None] | None = None,
    since_ms: int | None = None,
    window: Window | None = None,
    fetch: int = 2000,
) -> AsyncIterator[Record]:
    """Every record of `topics` from offset 0 (or the first stamped at `since_ms` or later, or
    the window's `from` offsets) to where each partition ends now (or the window's `to`
    offsets, if sooner), merged across partitions by the broker's timestamp (ties: the topics'
    order, then the partition)."""
    consumer = AIOKafkaConsumer(
        **kafka_options(kafka),
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=30000,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        assigned: list[TopicPartition] = []
        for topic in topics:
            partitions = await _partitions(consumer, topic)
            assigned += [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        starts = await consumer.beginning_offsets(assigned)
        if since_ms is not None:
            found = await consumer.offsets_for_times({tp: since_ms for tp in assigned})
            for tp in assigned:
                stamped = found.get(tp)
                starts[tp] = stamped.offset if stamped is not None else ends[tp]
                consumer.seek(tp, starts[tp])
        if window is not None:
            for tp in assigned:
                begin = window.start(tp.topic, tp.partition)
                if begin is not None:
                    starts[tp] = max(starts[tp], begin)
                    consumer.seek(tp, starts[tp])
                stop = window.end(tp.topic, tp.partition)
                if stop is not None:
                    ends[tp] = max(min(ends[tp], stop), starts[tp])
        if on_ends is not None:
            totals: Counter[str] = Counter()
            for tp in assigned:
                totals[tp.topic] += ends[tp] - starts[tp]
            on_ends({t: totals[t] for t in topics})
        order = {t: i for i, t in enumerate(topics)}
        buffers: dict[TopicPartition, list[Any]] = {tp: [] for tp in assigned}
        open_ = {tp for tp in assigned if ends[tp] > starts[tp]}
        heap: list[tuple[int, int, int, int, TopicPartition]] = []

        async def refill(wanted: list[TopicPartition]) -> None:
            while wanted:
                fetched = await consumer.getmany(*wanted, timeout_ms=2000, max_records=fetch)
                for tp, records in fetched.items():
                    buffers[tp].extend(r for r in records if r.offset < ends[tp])
                still = []
                for tp in wanted:
                    if not buffers[tp] and await consumer.position(tp) < ends[tp]:
                        still.append(tp)
                    elif await consumer.position(tp) >= ends[tp]:
                        open_.discard(tp)
                for tp in wanted:
                    if buffers[tp] and tp not in still:
                        head = buffers[tp][0]
                        heapq.heappush(
                            heap, (head.timestamp, order[tp.topic], tp.partition, head.offset, tp)
                        )
                wanted = still

        await refill(sorted(open_, key=lambda tp: (order[tp.topic], tp.partition)))
        while heap:
            _, _, _, _, tp = heapq.heappop(heap)
            record = buffers[tp].pop(0)
            yield Record(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                time=(
                    datetime.fromtimestamp(record.timestamp / 1000, UTC)
                    if record.timestamp and record.timestamp > 0
                    else None
                ),
            )
            if not buffers[tp] and tp in open_:
                await refill([tp])
            elif buffers[tp]:
                head = buffers[tp][0]
                heapq.heappush(
                    heap, (head.timestamp, order[tp.topic], tp.partition, head.offset, tp)
                )
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[int]:
    for _ in range(20):
        found = consumer.partitions_for_topic(topic)
        if found:
            return sorted(found)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.25)
    raise ValueError(f"Kafka has no topic {topic!r}")


@dataclass(frozen=True)
class Window:
    """Where a replay starts and stops on each partition (`{topic: {partition: offset}}`, the
    end exclusive, as a consumer group commits it); a partition not named: from offset 0, to
    its end."""

    starts: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    ends: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Window:
        """From `{"from": {topic: {partition: offset}}, "to": {...}}` (JSON keys are strings)."""

        def offsets(part: Any) -> dict[str, dict[int, int]]:
            return {t: {int(p): int(o) for p, o in ps.items()} for t, ps in (part or {}).items()}

        return cls(offsets(obj.get("from")), offsets(obj.get("to")))

    def start(self, topic: str, partition: int) -> int | None:
        return self.starts.get(topic, {}).get(partition)

    def end(self, topic: str, partition: int) -> int | None:
        return self.ends.get(topic, {}).get(partition)


def _key(value: bytes | None) -> str:
    """The event key (`source` + `id`) of a record, or "" (the processor says what is wrong)."""
    try:
        obj = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return ""
    return f"{obj.get('source')} {obj.get('id')}" if isinstance(obj, dict) else ""


def carried_collections(
    timers: Iterable[Timer[Any] | DayScan[Any]], carried: Iterable[str]
) -> list[str]:
    """The collections a replay copies from the live database: the day scans' watermarks and
    what the service names (`WorkerEntry.carried`)."""
    names = [t.marks for t in timers if isinstance(t, DayScan)]
    return sorted({*names, *carried})


async def is_empty(db: Db) -> bool:
    return not await db.list_collection_names()


async def replay(
    *,
    catalog: EventCatalog,
    reactions: Reactions,
    settings: ServiceSettings,
    live: Db,
    target: Db,
    ensure_indexes: IndexSetup | None = None,
    carried: Sequence[str] = (),
    batch: int = BATCH,
    since_ms: int | None = None,
    window: Window | None = None,
    progress: TextIO | None = None,
) -> Replayed:
    """Rebuild the projections of `catalog`'s service into `target` (see the module)."""
    if target.name == live.name:
        raise ValueError("replay into another database than the live one")
    started = time.perf_counter()
    result = Replayed(database=target.name)
    for name in carried:
        docs = await live[name].find({}).to_list(None)
        if docs:
            await target[name].insert_many(docs, ordered=False)
        result.carried[name] = len(docs)
    if ensure_indexes is not None:
        await ensure_indexes(target)
    await retention.ensure_indexes(target, retention.personal_collections(catalog))
    await audit.ensure_indexes(target)
    result.setup_seconds = time.perf_counter() - started
    subscription = subscribe(catalog, reactions)
    publisher = CollectingPublisher()
    keys = Keyring(ReadOnlyKeys(MongoDataKeys(live)), settings.master())

    async def dead_letter(letter: DeadLetter) -> None:
        return None  # counted among the outcomes; a replay sends nothing

    processor = EventProcessor(
        store=MongoStore(target),
        cache=AggregateCache(settings.aggregate_cache_size),
        catalogs=subscription.catalogs,
        handlers=subscription.handlers,
        dead_letter=dead_letter,
        publisher=publisher,
        metrics=service_metrics(catalog.service),
        keyring=keys,
        own_topic=catalog.topic,
        group=f"{settings.consumer_group(catalog.service)}-replay",
        max_attempts=settings.consumer_max_attempts,
        backoff_s=0.0,
    )
    bar: Progress | None = None

    def totals(ends: Mapping[str, int]) -> None:
        nonlocal bar
        if progress is not None:
            bar = Progress(ends, progress)

    seen: set[str] = set()
    pending: list[Record] = []

    async def apply(records: list[Record]) -> None:
        outcomes = await processor.process_batch(records)
        result.outcomes.update(str(o) for o in outcomes)
        for record in records:
            result.records[record.topic] += 1
            if bar is not None:
                bar.add(record.topic)

    async for record in log_records(
        settings.kafka(), subscription.topics, on_ends=totals, since_ms=since_ms, window=window
    ):
        seen.add(_key(record.value))
        pending.append(record)
        if len(pending) >= batch:
            await apply(pending)
            pending = []
    if pending:
        await apply(pending)
    if bar is not None:
        bar.finish()
    replayed = set(subscription.topics)
    for topic, event in publisher.derived:
        result.derived += 1
        if topic not in replayed:
            result.derived_elsewhere += 1
        elif event.key not in seen:
            result.derived_missing.append(f"{topic} {event.type} {event.key}")
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class Difference:
    collection: str
    doc_id: Any
    what: str

    def __str__(self) -> str:
        return f"{self.collection}/{self.doc_id}: {self.what}"


def _without(doc: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    out = dict(doc)
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            inner = out.get(head)
            if isinstance(inner, Mapping):
                out[head] = _without(inner, [rest])
        else:
            out.pop(head, None)
    return out


def _field_differences(live: Any, rebuilt: Any, path: str = "") -> list[str]:
    if isinstance(live, Mapping) and isinstance(rebuilt, Mapping):
        found: list[str] = []
        for name in sorted(set(live) | set(rebuilt), key=str):
            where = f"{path}.{name}" if path else str(name)
            if name not in rebuilt:
                found.append(f"{where}: only live has it ({live[name]!r})")
            elif name not in live:
                found.append(f"{where}: only the rebuilt has it ({rebuilt[name]!r})")
            else:
                found += _field_differences(live[name], rebuilt[name], where)
        return found
    if live != rebuilt:
        return [f"{path}: live {live!r}, rebuilt {rebuilt!r}"]
    return []


def ignored(collection: str) -> tuple[str, ...]:
    return (*PROCESSING_FIELDS.get("*", ()), *PROCESSING_FIELDS.get(collection, ()))


async def compare(
    live: Db, rebuilt: Db, *, skip: Iterable[str] = ()
) -> tuple[list[Difference], dict[str, int]]:
    """The differences between the collections the replay wrote in `rebuilt` and the same in
    `live`, document by document (each collection read whole), the fields of
    `PROCESSING_FIELDS` left out; and how many documents each compared collection holds."""
    left_out = {*skip, *NOT_REBUILT}
    names = sorted(n for n in await rebuilt.list_collection_names() if n not in left_out)
    differences: list[Difference] = []
    counts: dict[str, int] = {}
    for name in names:
        drop = ignored(name)
        before = {d["_id"]: _without(d, drop) for d in await live[name].find({}).to_list(None)}
        after = {d["_id"]: _without(d, drop) for d in await rebuilt[name].find({}).to_list(None)}
        counts[name] = len(after)
        for doc_id in sorted(set(before) | set(after), key=str):
            if doc_id not in after:
                differences.append(Difference(name, doc_id, "only in the live database"))
            elif doc_id not in before:
                differences.append(Difference(name, doc_id, "only in the rebuilt database"))
            else:
                differences += [
                    Difference(name, doc_id, what)
                    for what in _field_differences(before[doc_id], after[doc_id])
                ]
    return differences, counts
