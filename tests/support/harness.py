"""A worker's handlers on the in-memory store: records in, documents, timelines, dead letters
and derived events out. Pure: no broker, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fazhi.bus.batch import Handler
from fazhi.bus.consumer import EventProcessor
from fazhi.bus.publisher import FakePublisher
from fazhi.bus.records import DeadLetter, Outcome, Record
from fazhi.bus.worker import WorkerEntry
from fazhi.contracts.envelope import CloudEvent
from fazhi.metrics import service_metrics
from fazhi.store.projection import LEDGER, MemoryStore
from fazhi.store.sealing import (
    DEVELOPMENT_MASTER_KEY,
    Keyring,
    MasterKey,
    MemoryDataKeys,
    key_id,
    personal_present,
    seal,
)

RECORDS_FROM = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The time of the harness's first record; each next one a second later."""


class Harness:
    """Feeds events to a service's worker as it would consume them (its reactions, the topics
    they name), one partition per topic."""

    def __init__(
        self,
        worker: WorkerEntry,
        store: MemoryStore | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        subscription = worker.subscription()
        self.catalog = worker.catalog
        self.catalogs = subscription.catalogs
        self.store = store or MemoryStore()
        self.letters: list[DeadLetter] = []
        self.publisher = FakePublisher()
        self.offset = 0
        self.data_keys = MemoryDataKeys()
        self.keyring = Keyring(self.data_keys, MasterKey(DEVELOPMENT_MASTER_KEY), ttl_s=0)

        async def sink(letter: DeadLetter) -> None:
            self.letters.append(letter)

        async def no_sleep(_: float) -> None:
            return None

        self.processor = EventProcessor(
            store=self.store,
            catalogs=self.catalogs,
            handlers=subscription.handlers if handlers is None else handlers,
            dead_letter=sink,
            publisher=self.publisher,
            metrics=service_metrics(f"harness_{self.catalog.service}"),
            keyring=self.keyring,
            own_topic=self.catalog.topic,
            _sleep=no_sleep,
        )

    def records(self, *events: CloudEvent | bytes, partition: int = 0) -> list[Record]:
        """Records on the topic of each event's type (the service's own for raw bytes)."""
        out = []
        for event in events:
            value = event if isinstance(event, bytes) else event.to_bytes()
            topic = self.catalog.topic if isinstance(event, bytes) else self.topic_of(event)
            time = RECORDS_FROM + timedelta(seconds=self.offset)
            out.append(Record(topic, partition, self.offset, b"k", value, time))
            self.offset += 1
        return out

    async def run(self, *events: CloudEvent | bytes) -> list[Outcome]:
        """Apply the events as one batch."""
        return await self.processor.process_batch(self.records(*events))

    async def replay(self, records: Sequence[Record]) -> list[Outcome]:
        return await self.processor.process_batch(records)

    async def sealed(self, event: CloudEvent) -> CloudEvent:
        """The event as the owning api publishes it: personal fields sealed under its
        aggregate's data key (made on first use)."""
        event_type = self.catalog.types[event.type]
        if not personal_present(event, event_type.model):
            return event
        name = key_id(event_type.collection, event.subject)
        keys = await self.keyring.get([name], create=True)
        return seal(event, event_type.model, keys[name])

    def topic_of(self, event: CloudEvent) -> str:
        return next(t for t, c in self.catalogs.items() if event.type in c.types)

    def doc(self, collection: str, doc_id: str) -> dict[str, Any]:
        return self.store.table(collection)[doc_id]

    def rows(self, collection: str, **match: Any) -> list[dict[str, Any]]:
        rows = [
            row
            for row in self.store.table(collection).values()
            if all(row.get(k) == v for k, v in match.items())
        ]
        return sorted(rows, key=lambda row: row.get("seq", 0))

    def ledger(self, event: CloudEvent) -> dict[str, Any]:
        return self.store.table(LEDGER)[event.key]

    @property
    def errors(self) -> list[str]:
        return [letter.error for letter in self.letters]
