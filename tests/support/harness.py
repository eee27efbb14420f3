"""A worker's handlers on the in-memory store: records in, documents, timelines, dead letters
and derived events out. Pure: no broker, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fazhi.catalog import EventCatalog
from fazhi.consumer import DeadLetter, EventProcessor, Handler, Outcome, Record
from fazhi.envelope import CloudEvent
from fazhi.metrics import service_metrics
from fazhi.projection import LEDGER, MemoryStore
from fazhi.publisher import FakePublisher


class Harness:
    """Feeds events to a service's handlers as its worker would, one partition per topic."""

    def __init__(
        self,
        catalog: EventCatalog,
        handlers: Mapping[str, Handler],
        store: MemoryStore | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store or MemoryStore()
        self.letters: list[DeadLetter] = []
        self.publisher = FakePublisher()
        self.offset = 0

        async def sink(letter: DeadLetter) -> None:
            self.letters.append(letter)

        async def no_sleep(_: float) -> None:
            return None

        self.processor = EventProcessor(
            store=self.store,
            catalogs={catalog.topic: catalog},
            handlers=handlers,
            dead_letter=sink,
            publisher=self.publisher,
            metrics=service_metrics(f"harness_{catalog.service}"),
            _sleep=no_sleep,
        )

    def records(self, *events: CloudEvent | bytes, partition: int = 0) -> list[Record]:
        out = []
        for event in events:
            value = event if isinstance(event, bytes) else event.to_bytes()
            out.append(Record(self.catalog.topic, partition, self.offset, b"k", value))
            self.offset += 1
        return out

    async def run(self, *events: CloudEvent | bytes) -> list[Outcome]:
        """Apply the events as one batch."""
        return await self.processor.process_batch(self.records(*events))

    async def replay(self, records: Sequence[Record]) -> list[Outcome]:
        return await self.processor.process_batch(records)

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
