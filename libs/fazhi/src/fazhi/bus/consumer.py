"""Idempotent, batched event consumption: a ledger of processed events, handlers applied to
aggregates loaded once per batch, bounded retries, then the DLQ.

A batch is applied in a fixed order: load the aggregates it touches (and, at the same time,
the heads of their audit chains), claim its ledger entries
(one insert; each entry is the event's receipt, `fazhi.receipts`), run each event's handler in
record order against the batch's copy of them, write the timeline rows and the own topic's
records' audit entries (`fazhi.bus.audit`) while publishing the events the handlers derived,
then the changed aggregates (one bulk write per collection), then the heads of the audit
chains, then settle the ledger (one update). Only then are the offsets committed. A crash anywhere replays the batch: the ledger tells a re-posted event (another
record) from a replayed one (the same record), and each aggregate's partition offset tells
whether a replayed record was applied to it already.

An event of an older version of its contract is upcast to the current one
(`fazhi.contracts.versions`) once its personal fields are unsealed, before it is validated.

Personal fields of the service's own events are unsealed (`fazhi.store.sealing`) before their data is
validated, with the data keys of the batch's aggregates (one lookup each, or the keyring's
cache), so handlers see plain data; a field whose key is gone reads as erased, the event still
applies, and its aggregate is marked `personal_data: "erased"`. Another service's events reach
a reaction with every personal field erased.

Failures caused by the record (not a CloudEvent, invalid data, a sealed field altered, a
transition the domain refuses, a handler that keeps raising) send it to `<topic>.dlq` so the
partition keeps flowing; the rest of its batch is applied. Failures of the infrastructure
(MongoDB unreachable, Kafka not taking a derived event) are retried without limit instead: the
records are fine and must not be lost."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError

from fazhi.bus import audit
from fazhi.bus.batch import AggregateCache, DocKey, Handler, HandlerContext, _Batch
from fazhi.bus.ledger import (
    _correction,
    _Item,
    _ledger_changes,
    _ledger_fields,
    _ledger_outcome,
    _same_record,
)
from fazhi.bus.publisher import Publisher, PublishError
from fazhi.bus.records import DeadLetter, Outcome, PoisonError, Record
from fazhi.contracts.envelope import (
    CHINA_TZ,
    CloudEvent,
    EnvelopeError,
    EnvelopeFieldsError,
    from_kafka,
)
from fazhi.contracts.models import personal_fields
from fazhi.contracts.versions import VersionError, upcast, version_of
from fazhi.metrics import Metrics
from fazhi.receipts.refusals import refusal_of
from fazhi.rules.redaction import mask_for_log
from fazhi.rules.statemachine import IllegalTransition
from fazhi.store.catalog import EventCatalog, EventType
from fazhi.store.connect import store_unavailable
from fazhi.store.projection import (
    ERASED,
    OWNERS,
    PERSONAL_DATA,
    RETENTION_DAY,
    ConflictError,
    Document,
    LedgerEntry,
    Store,
    applied_position,
    owned_by,
)
from fazhi.store.sealing import (
    DataKey,
    Keyring,
    SealError,
    is_sealed,
    key_id,
    personal_present,
    seal,
    unseal,
)

log = logging.getLogger(__name__)


def infrastructure(exc: BaseException) -> bool:
    """The server, not the record, is at fault: retry without limit rather than dead-letter.
    The store away (`store_unavailable`: MongoDB unreachable, FerretDB's PostgreSQL restarting)
    or a derived event the broker did not take (it restarts): the batch is applied again, as a
    replay, once it is back, and the worker's consumer keeps its partitions."""
    return isinstance(exc, PublishError) or store_unavailable(exc)


CONFLICT_RETRIES = 5
T = TypeVar("T")
DeadLetterSink = Callable[[DeadLetter], Awaitable[None]]


async def until_applied(
    apply: Callable[[], Awaitable[T]],
    *,
    what: str,
    backoff_s: float = 0.2,
    backoff_max_s: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Apply a batch, again and again until it is applied, whatever it raises.

    A worker never goes past a batch it did not apply: faust restarts a crashed agent on the
    records after the batch, and its commits of what is acknowledged after a gap are not
    guarded against one in every case (the fault suite lost a crashed batch's records that
    way), so a batch given up would be skipped for good. What the records
    cause is dead-lettered by `EventProcessor`; what escapes it (a server error not known as
    the store away, an aggregate that kept changing) is logged as an error and tried again.
    A batch that never applies holds its worker, and the worker's liveness says so (a batch
    in hand too long: `fazhi.bus.workerwatch`), so it is restarted and reads the batch again."""
    delay = backoff_s
    while True:
        try:
            return await apply()
        except Exception as exc:
            log.error(
                "batch not applied, trying again",
                extra={"batch": what, "error": repr(exc), "delay_s": delay},
            )
            await sleep(delay)
            delay = min(delay * 2, backoff_max_s)


@dataclass
class EventProcessor:
    """Applies batches of records exactly once (see the module docstring)."""

    store: Store
    catalogs: Mapping[str, EventCatalog]
    handlers: Mapping[str, Handler]
    dead_letter: DeadLetterSink
    publisher: Publisher
    metrics: Metrics
    group: str = ""
    cache: AggregateCache = field(default_factory=lambda: AggregateCache(0))
    keyring: Keyring | None = None
    """The data keys of the service's aggregates (None: sealed fields read as erased)."""
    own_topic: str = ""
    """The service's own topic: its events' personal fields are the service's to unseal."""
    write_audit: bool = True
    """Whether it writes the audit trail of the own topic's records (`fazhi.bus.audit`)."""
    max_attempts: int = 3
    backoff_s: float = 0.2
    infra_backoff_max_s: float = 5.0
    _sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    async def process_batch(self, records: Sequence[Record]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        items: list[tuple[int, Record, CloudEvent]] = []
        for i, record in enumerate(records):
            try:
                items.append((i, record, from_kafka(record.value)))
            except (EnvelopeError, EnvelopeFieldsError) as exc:
                detail = exc.errors if isinstance(exc, EnvelopeFieldsError) else str(exc)
                letter = DeadLetter(record, f"not a CloudEvent: {detail}", 1, self.group)
                await self._retry_infra(partial(self.dead_letter, letter))
                self._count_dead_letter(record, "-", letter.error)
                outcomes[i] = Outcome.DEAD_LETTERED
        if items:
            applied = await self._apply_resolving_conflicts([(r, e) for _, r, e in items])
            for (i, _, _), outcome in zip(items, applied, strict=True):
                outcomes[i] = outcome
        return [outcomes[i] for i in range(len(records))]

    async def _apply_resolving_conflicts(
        self, pairs: Sequence[tuple[Record, CloudEvent]]
    ) -> list[Outcome]:
        try:
            return await self._retry_infra(partial(self._apply, pairs))
        except ConflictError as exc:
            log.warning(
                "batch conflicted, applying its records one by one", extra={"error": str(exc)}
            )
        outcomes: list[Outcome] = []
        for pair in pairs:
            for attempt in range(CONFLICT_RETRIES):
                try:
                    outcomes.extend(await self._retry_infra(partial(self._apply, [pair])))
                    break
                except ConflictError as exc:
                    if attempt == CONFLICT_RETRIES - 1:
                        raise PoisonError(f"aggregate kept changing: {exc}") from exc
        return outcomes

    async def _apply(self, pairs: Sequence[tuple[Record, CloudEvent]]) -> list[Outcome]:
        try:
            return await self._apply_once(pairs)
        except BaseException:
            self.cache.clear()  # what the store holds now is unknown: load it anew
            raise

    async def _apply_once(self, pairs: Sequence[tuple[Record, CloudEvent]]) -> list[Outcome]:
        # The aggregates are loaded first, so that each claim carries the version its event
        # gives its aggregate: an applied event's receipt is written with its claim, at no
        # cost. Claimed as applied: the rare event that is refused or ignored is corrected
        # below, and a batch that does not finish is replayed (its offsets are not committed).
        now = datetime.now(UTC)
        claimed = {"outcome": str(Outcome.APPLIED), "processed_at": now}
        batch = _Batch(self.store, self.cache)
        audited = (
            sorted({e.subject for _, e in pairs if self._own(e) and e.subject is not None})
            if self.write_audit
            else []
        )
        # The heads of their audit chains are loaded (and kept in the cache) as they are.
        await batch.preload(
            [
                *(k for _, e in pairs if (k := self._primary(e))),
                *((audit.AUDIT_HEADS, s) for s in audited),
            ]
        )
        heads = {s: h for s in audited if (h := batch.peek((audit.AUDIT_HEADS, s))) is not None}
        receipts = [self._receipt(e, batch) for _, e in pairs]
        existing = await self.store.claim(
            [
                LedgerEntry(e.key, {**_ledger_fields(r, e), **claimed, **receipt})
                for (r, e), receipt in zip(pairs, receipts, strict=True)
            ]
        )
        items = [
            _Item(r, e, existing.get(e.key), receipt=receipt)
            for (r, e), receipt in zip(pairs, receipts, strict=True)
        ]
        todo = [item for item in items if not self._reposted(item)]
        keys = await self._keys(item.event for item in todo)
        for item in todo:
            await self._handle(batch, item, keys)
        # The derived events are published while the timeline rows and the trail's entries
        # are written, and acknowledged before the aggregates are: a batch that saved its
        # aggregates has published what it derived (a replay of it derives nothing again).
        trail = audit.append(
            [self._audited(item) for item in items if self._own(item.event)]
            if self.write_audit
            else [],
            heads,
        )
        await batch.commit(drafts=trail.entries, alongside=partial(self._publish, batch.emitted))
        if trail.heads:
            await self.store.commit(trail.heads, [])
            for head in trail.heads:
                self.cache.put((head.collection, head.doc["_id"]), head.doc)
        for item in items:
            if item.outcome is Outcome.DEAD_LETTERED:
                refusal = item.refusal if self._own(item.event) else None
                await self.dead_letter(
                    DeadLetter(item.record, item.error, item.attempts, self.group, refusal)
                )
        # One entry per event: the same event twice in one batch (a copy posted again, a derived
        # event published by two workers) corrects it once with both, as two batches would.
        corrections: dict[str, dict[str, Any]] = {}
        for item in items:
            if _ledger_changes(item):
                corrections.setdefault(item.event.key, {}).update(_correction(item, now))
        if corrections:
            await self.store.settle(corrections)
        for item in items:
            self._count(item)
        return [item.outcome or Outcome.DUPLICATE for item in items]

    def _audited(self, item: _Item) -> audit.Audited:
        event_type = self._event_type(item.event)
        record = item.record
        return audit.Audited(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event=item.event,
            collection=event_type.collection if event_type is not None else "",
            outcome=str(Outcome.DUPLICATE) if item.reposted else _ledger_outcome(item.outcome),
        )

    def _receipt(self, event: CloudEvent, batch: _Batch) -> dict[str, Any]:
        """The aggregate an own event applies to and the version it will have after the batch
        (every applied event saves its aggregate, once per batch)."""
        primary = self._primary(event)
        if primary is None or not self._own(event):
            return {}
        loaded = batch.loaded_versions.get(primary)
        return {
            "aggregate": {"collection": primary[0], "id": primary[1]},
            "version": (loaded or 0) + 1,
        }

    def _reposted(self, item: _Item) -> bool:
        """Whether the ledger already has this event from another record (posted again), and
        it was not dead-lettered there: a dead-lettered event may come back corrected."""
        prior = item.prior
        if prior is None or prior.get("outcome") == Outcome.DEAD_LETTERED:
            return False
        if _same_record(prior, item.record):
            return False
        item.outcome = Outcome.DUPLICATE
        item.reposted = True
        return True

    def _event_type(self, event: CloudEvent) -> EventType | None:
        for catalog in self.catalogs.values():
            event_type = catalog.types.get(event.type)
            if event_type is not None:
                return event_type
        return None

    def _primary(self, event: CloudEvent) -> DocKey | None:
        """The aggregate the event is about (its type's collection, its subject)."""
        event_type = self._event_type(event)
        if event_type is None or not event_type.collection or event.subject is None:
            return None
        return (event_type.collection, event.subject)

    def _key_id(self, event: CloudEvent) -> str | None:
        """The data key of the own event's aggregate, when the event has sealed fields."""
        event_type = self._event_type(event)
        if event_type is None or event.subject is None:
            return None
        if not any(
            is_sealed(event.data[name]) for name in personal_present(event, event_type.model)
        ):
            return None
        return key_id(event_type.collection or self.own_topic, event.subject)

    async def _keys(self, events: Iterable[CloudEvent]) -> dict[str, DataKey]:
        if self.keyring is None:
            return {}
        own = (e for e in events if self._own(e))
        return await self.keyring.get(k for event in own if (k := self._key_id(event)))

    def _own(self, event: CloudEvent) -> bool:
        catalog = self.catalogs.get(self.own_topic)
        return catalog is not None and event.type in catalog.types

    async def _handle(self, batch: _Batch, item: _Item, keys: Mapping[str, DataKey]) -> None:
        event, record = item.event, item.record
        handler = self.handlers.get(event.type)
        if handler is None:
            item.outcome = Outcome.IGNORED
            return
        primary = self._primary(event)
        doc = batch.peek(primary) if primary else None
        if applied_position(doc, record.topic, record.partition) >= record.offset:
            item.outcome = Outcome.DUPLICATE  # a replayed record this aggregate already took
            return
        try:
            data = self._data(item, keys)
            self._check_primary(self._event_type(event), event, primary, doc)
        except PoisonError as exc:
            self._refuse(item, str(exc), 1, refusal_of(exc))
            return
        while True:
            item.attempts += 1
            ctx = HandlerContext(event=event, record=record, _batch=batch)
            started = time.perf_counter()
            try:
                await handler(ctx, data)
            except (PoisonError, IllegalTransition) as exc:
                self._refuse(item, str(exc), item.attempts, refusal_of(exc))
                return
            except Exception as exc:  # a handler bug must not stop the partition
                if infrastructure(exc):
                    raise
                log.warning(
                    "handler failed",
                    extra={"event_type": event.type, "attempt": item.attempts, "error": repr(exc)},
                )
                if item.attempts >= self.max_attempts:
                    self._refuse(
                        item, repr(exc), item.attempts, refusal_of(exc, handler_failed=True)
                    )
                    return
                self.metrics.consumed.labels(
                    topic=record.topic, type=event.type, outcome="retried"
                ).inc()
                await self._sleep(self.backoff_s * 2 ** (item.attempts - 1))
                continue
            finally:
                item.seconds += time.perf_counter() - started
            break
        if primary is not None:
            self._stamp_primary(ctx, primary, batch)
            self._stamp_personal(ctx, primary, item)
        batch.merge(ctx)
        item.outcome = Outcome.APPLIED

    @staticmethod
    def _check_primary(
        event_type: EventType | None,
        event: CloudEvent,
        primary: DocKey | None,
        doc: Document | None,
    ) -> None:
        if primary is None or event_type is None:
            return
        if doc is None:
            if not event_type.creates:
                raise PoisonError(f"{primary[1]!r} does not exist (yet): {event.type} cannot apply")
            return
        if not event_type.any_unit and not owned_by(doc, event.unit):
            owners = ", ".join(doc.get(OWNERS, []))
            raise PoisonError(f"unit {event.unit!r} does not own {primary[1]!r} (owners: {owners})")

    @staticmethod
    def _stamp_primary(ctx: HandlerContext, primary: DocKey, batch: _Batch) -> None:
        """The primary aggregate records every record applied to it, changed or not: its
        partition offset is what makes a replay of this record a no-op."""
        staged = ctx.saved.get(primary)
        if staged is None:
            current = batch.peek(primary)
            if current is None:
                return
            ctx.saved[primary] = copy.deepcopy(current)
        elif OWNERS not in staged and batch.peek(primary) is None:
            staged[OWNERS] = [ctx.event.unit]

    def _stamp_personal(self, ctx: HandlerContext, primary: DocKey, item: _Item) -> None:
        """An own aggregate with personal data keeps the day its retention counts from (its
        last event's day), and says so when some of its personal data read as erased."""
        staged = ctx.saved.get(primary)
        event_type = self._event_type(item.event)
        if staged is None or event_type is None or not self._own(item.event):
            return
        if RETENTION_DAY in staged or personal_present(item.event, event_type.model):
            staged[RETENTION_DAY] = item.event.time.astimezone(CHINA_TZ).date().isoformat()
        if item.erased:
            staged[PERSONAL_DATA] = ERASED

    def _refuse(
        self, item: _Item, error: str, attempts: int, refusal: dict[str, Any] | None = None
    ) -> None:
        item.outcome = Outcome.DEAD_LETTERED
        item.error = error
        item.attempts = attempts
        item.refusal = refusal

    def _data(self, item: _Item, keys: Mapping[str, DataKey]) -> Any:
        event = item.event
        event_type = self._event_type(event)
        if event_type is None:
            return event.data
        data = event.data
        if personal_fields(event_type.model):
            own = self._own(event)
            key_name = self._key_id(event) if own else None
            try:
                unsealed = unseal(event, event_type.model, keys.get(key_name or ""), owner=own)
            except SealError as exc:
                raise PoisonError(str(exc)) from exc
            data, item.erased = unsealed.data, unsealed.erased if own else ()
        try:
            data = upcast(
                event.type, version_of(event.type, event.dataschema), event_type.version, data
            )
        except VersionError as exc:
            raise PoisonError(str(exc)) from exc
        try:
            return event_type.model.model_validate(data)
        except ValidationError as exc:
            raise PoisonError(
                f"invalid data for {event.type}: {exc.errors(include_input=False, include_url=False)}"
            ) from exc

    async def _publish(self, emitted: Sequence[tuple[str, CloudEvent]]) -> None:
        emitted = await self._seal_derived(emitted)
        by_topic: dict[str, list[CloudEvent]] = {}
        for topic, event in emitted:
            by_topic.setdefault(topic, []).append(event)
        for topic, events in by_topic.items():
            await self.publisher.publish(topic, events)

    async def _seal_derived(
        self, emitted: Sequence[tuple[str, CloudEvent]]
    ) -> Sequence[tuple[str, CloudEvent]]:
        """Derived events seal their personal fields, if any, under the service's own keys."""
        if self.keyring is None:
            return emitted
        wanted: dict[int, tuple[str, type[Any]]] = {}
        for i, (_, event) in enumerate(emitted):
            event_type = self._event_type(event)
            if event_type is not None and personal_present(event, event_type.model):
                wanted[i] = (
                    key_id(event_type.collection or self.own_topic, event.subject),
                    event_type.model,
                )
        if not wanted:
            return emitted
        keys = await self.keyring.get((k for k, _ in wanted.values()), create=True)
        return [
            (topic, seal(event, wanted[i][1], keys[wanted[i][0]]) if i in wanted else event)
            for i, (topic, event) in enumerate(emitted)
        ]

    def _count(self, item: _Item) -> None:
        record, event = item.record, item.event
        outcome = item.outcome or Outcome.DUPLICATE
        if outcome is Outcome.DEAD_LETTERED:
            self._count_dead_letter(record, event.type, item.error)
        else:
            self.metrics.consumed.labels(topic=record.topic, type=event.type, outcome=outcome).inc()
        if item.attempts:
            self.metrics.handle_seconds.labels(topic=record.topic).observe(item.seconds)

    def _count_dead_letter(self, record: Record, event_type: str, error: str) -> None:
        log.error(
            "record dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "event_type": event_type,
                "error": mask_for_log(error[:500]),
            },
        )
        self.metrics.dead_lettered.labels(topic=record.topic).inc()
        self.metrics.consumed.labels(
            topic=record.topic, type=event_type, outcome="dead_lettered"
        ).inc()

    async def _retry_infra(self, action: Callable[[], Awaitable[T]]) -> T:
        delay = self.backoff_s or 0.1
        while True:
            try:
                return await action()
            except Exception as exc:
                if not infrastructure(exc):
                    raise
                log.warning(
                    "mongodb or kafka unavailable, retrying",
                    extra={"error": repr(exc), "delay_s": delay},
                )
                await self._sleep(delay)
                delay = min(delay * 2, self.infra_backoff_max_s)
