"""The api's search index kept current, like any projection: built from the published documents
in the store, then following the events that change them.

Each api replica keeps its own index in `SEARCH_INDEX_DIR`: `manifest.json` (the format, the
store it was built from, and the Kafka position it has applied up to) beside the index of the
current generation. At start the index is opened if its manifest is of this format and store and
its position is one the topics can resume from; otherwise it is rebuilt into a new generation,
from the position the worker group has committed (everything before it is in the store), by
reading the store one year at a time (an indexed equality, streamed in batches), and the old
generation is deleted.

It follows `opengov.events` (published, validity changed), and the reconsideration decisions and
emergency notices other services publish, through `fazhi.web.live.KafkaFeed` from its position.
The tail may see an event before the worker has projected it: each changed document is read by
`_id` until it carries the event's offset in `_pos` (at most `SEARCH_WAIT_S`), then replaces its
copy in the index (a withdrawn notice leaves it). The store stays the one source of what the
public may read: the index never takes text from an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.contracts import all_topics
from fazhi.contracts.emergency import NoticePublished
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.contracts.mediation import DecisionPublished
from fazhi.contracts.models import Payload
from fazhi.contracts.opengov import DocumentPublished, ValidityChanged
from fazhi.store import applied_position
from fazhi.web import KafkaFeed, Position, Problem, ServiceRuntime
from open_government.config import Settings
from open_government.documents.published_elsewhere import (
    decision_document_id,
    notice_document_id,
)
from open_government.search.index import FORMAT, READ_FIELDS, SearchIndex
from open_government.store import DOCUMENTS

log = logging.getLogger(__name__)

CHANGES: Mapping[type[Payload], Callable[[Mapping[str, Any]], str]] = {
    DocumentPublished: lambda data: str(data["document_id"]),
    ValidityChanged: lambda data: str(data["document_id"]),
    DecisionPublished: lambda data: decision_document_id(str(data["case_id"])),
    NoticePublished: lambda data: notice_document_id(str(data["notice_id"])),
}
"""The events that change a published document, and the document each changes."""
FIRST_YEAR = 1949
"""The earliest publication year a rebuild reads (documents are read by year, an equality)."""
BATCH = 500
COMMIT_EVERY = 5000
"""Documents a rebuild indexes between commits (what is committed is searchable at once)."""
SETTLE_EVERY_S = 0.05
READ_CONCURRENCY = 16
MANIFEST = "manifest.json"


def _changes() -> dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]]:
    """By event type: its topic and the id of the document it changes."""
    found: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = {}
    for topic in all_topics():
        for name, contract in topic.types.items():
            if contract.model in CHANGES:
                found[name] = (topic.name, CHANGES[contract.model])
    return found


@dataclass
class _Pending:
    """A document some events changed, waiting for the worker to have projected them."""

    needs: dict[TopicPartition, int] = field(default_factory=dict)
    since: float = field(default_factory=time.monotonic)


@dataclass
class SearchProjection:
    """The `search` component of the open-government api (see `fazhi.web.app.Component`)."""

    settings: Settings
    name: str = "search"
    index: SearchIndex | None = None
    state: str = "starting"
    """starting → rebuilding or catching up → current."""
    indexed: int = 0
    current: bool = False
    _types: dict[str, tuple[str, Callable[[Mapping[str, Any]], str]]] = field(
        default_factory=_changes
    )
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _position: Position = field(default_factory=dict)
    _started: float = 0.0
    _built: bool = False
    """The index holds every published document up to its position (opened, or rebuilt)."""
    _task: asyncio.Task[None] | None = None
    _temporary: Path | None = None

    # ------------------------------------------------------------ the component

    async def start(self, rt: ServiceRuntime) -> None:
        self._started = time.monotonic()
        self._task = asyncio.create_task(self._run(rt.db))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.index is not None:
            await asyncio.to_thread(self.index.close)
            self._save_manifest()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def waiting_for(self) -> str | None:
        if self.current or time.monotonic() - self._started >= self.settings.search_ready_wait_s:
            return None
        if self.state == "rebuilding":
            return f"search index rebuilding: {self.indexed} documents so far"
        return f"search index {self.state}"

    # ------------------------------------------------------------ where it lives

    @property
    def directory(self) -> Path:
        if self.settings.search_index_dir:
            return Path(self.settings.search_index_dir)
        if self._temporary is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="fazhi-search-"))
        return self._temporary

    def _source(self) -> str:
        """The store an index was built from (hashed: the URL may hold a password)."""
        raw = f"{self.settings.mongo_url}/{self.settings.mongo_db}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def _manifest(self) -> dict[str, Any]:
        try:
            found = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _save_manifest(self, **changes: Any) -> None:
        if self.index is None or self.index.path is None:
            return
        manifest = {
            **self._manifest(),
            "format": FORMAT,
            "source": self._source(),
            "generation": self.index.path.name,
            "position": self.feed.token(self._safe_position()) if self._position else None,
            "saved_at": datetime.now(CHINA_TZ).isoformat(),
            **changes,
        }
        path = self.directory / MANIFEST
        spare = path.with_suffix(".tmp")
        spare.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        spare.replace(path)

    @property
    def feed(self) -> KafkaFeed:
        topics = sorted({topic for topic, _ in self._types.values()})
        return KafkaFeed(
            self.settings.kafka_bootstrap, topics, frozenset(self._types), name="search-index"
        )

    # ------------------------------------------------------------ the work

    async def _run(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        while True:
            try:
                await self._open_or_rebuild(db)
                await self._follow(db)
            except asyncio.CancelledError:
                raise
            except (KafkaError, PyMongoError, OSError) as exc:
                log.warning("search index: %r; trying again", exc)
            except Exception:  # the index must outlive any surprise; the api serves on
                log.exception("search index failed; trying again")
            await asyncio.sleep(2)

    async def _open_or_rebuild(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        if self._built:
            return  # resuming after a lost connection: the index and its position stand
        manifest = self._manifest()
        generation = self.directory / str(manifest.get("generation") or "-")
        if (
            manifest.get("format") == FORMAT
            and manifest.get("source") == self._source()
            and manifest.get("complete")
            and isinstance(manifest.get("position"), str)
            and generation.is_dir()
        ):
            try:
                self._position = await self.feed.check(manifest["position"])
            except Problem:
                log.info("search index: its position is not on the topics any more; rebuilding")
            else:
                self.index = SearchIndex(generation)
                self.indexed = self.index.size()
                self._built = True
                log.info("search index opened", extra={"documents": self.indexed})
                return
        await self._rebuild(db)

    async def _rebuild(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.state, self.current, self.indexed = "rebuilding", False, 0
        began = time.monotonic()
        start = await self._committed()
        index = SearchIndex(self.directory / f"g{time.time_ns()}")
        self.index, self._position = index, start
        self._save_manifest(complete=False)
        since_commit = 0
        this_year = datetime.now(CHINA_TZ).year
        for year in range(this_year + 1, FIRST_YEAR - 1, -1):
            batch: list[dict[str, Any]] = []
            async for doc in db[DOCUMENTS].find({"year": year}, READ_FIELDS).batch_size(BATCH):
                batch.append(doc)
                if len(batch) >= BATCH:
                    since_commit += await asyncio.to_thread(index.put, batch)
                    batch = []
                    if since_commit >= COMMIT_EVERY:
                        await asyncio.to_thread(index.commit)
                        self.indexed += since_commit
                        since_commit = 0
            since_commit += await asyncio.to_thread(index.put, batch)
        await asyncio.to_thread(index.commit)
        self.indexed = index.size()
        took = round(time.monotonic() - began, 1)
        self._save_manifest(complete=True, documents=self.indexed, rebuild_s=took)
        self._built = True
        for older in self.directory.glob("g*"):  # the generation before, or a rebuild cut short
            if older.is_dir() and older != index.path:
                shutil.rmtree(older, ignore_errors=True)
        log.info("search index rebuilt", extra={"documents": self.indexed, "seconds": took})

    async def _committed(self) -> Position:
        """Where the worker group stands on the followed topics (a partition it never
        committed: its start): everything before is projected, so in the store."""
        feed = self.feed
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=5000
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, group_id=None, request_timeout_ms=5000
        )
        await admin.start()
        try:
            await consumer.start()
            described = await admin.describe_topics(list(feed.topics))
            partitions = [
                TopicPartition(d["topic"], p["partition"])
                for d in described
                for p in d["partitions"]
            ]
            if len({tp.topic for tp in partitions}) != len(feed.topics):
                raise KafkaError(f"Kafka does not know all of the topics {list(feed.topics)}")
            group = self.settings.consumer_group("open_government")
            committed = await admin.list_consumer_group_offsets(group)
            starts = await consumer.beginning_offsets(partitions)
        finally:
            await consumer.stop()
            await admin.close()
        position: Position = {}
        for tp in partitions:
            done = committed.get(tp)
            position[tp] = done.offset if done is not None and done.offset >= 0 else starts[tp]
        return position

    async def _follow(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        feed = self.feed
        self.state = "catching up"
        ends = await self._ends(list(self._position))
        settler = asyncio.create_task(self._settle_forever(db))
        last_saved = time.monotonic()
        try:
            async for token, where, event in feed.located(feed.token(self._position), idle_s=0.2):
                self._position = feed.parse(token)
                if event is not None and where is not None:
                    self._note(event, *where)
                if not self.current and not self._pending and self._reached(ends):
                    self.current, self.state = True, "current"
                    log.info("search index current", extra={"documents": self.index_size()})
                if time.monotonic() - last_saved > 5:
                    self._save_manifest()
                    last_saved = time.monotonic()
                if settler.done():
                    settler.result()  # its failure is the follower's
        finally:
            settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await settler

    def index_size(self) -> int:
        return self.index.size() if self.index is not None else 0

    def _reached(self, ends: Mapping[TopicPartition, int]) -> bool:
        return all(self._position.get(tp, 0) >= end for tp, end in ends.items())

    async def _ends(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, group_id=None, request_timeout_ms=5000
        )
        await consumer.start()
        try:
            return dict(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()

    def _note(self, event: CloudEvent, tp: TopicPartition, offset: int) -> None:
        found = self._types.get(event.type)
        if found is None:
            return
        try:
            doc_id = found[1](event.data)
        except (KeyError, TypeError):
            return
        pending = self._pending.setdefault(doc_id, _Pending())
        pending.needs[tp] = max(offset, pending.needs.get(tp, -1))

    def _safe_position(self) -> Position:
        """The position to resume from: where the feed is, but before any event still waiting."""
        safe = dict(self._position)
        for pending in self._pending.values():
            for tp, offset in pending.needs.items():
                safe[tp] = min(safe.get(tp, offset), offset)
        return safe

    async def _settle_forever(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        while True:
            await self.settle(db)
            await asyncio.sleep(SETTLE_EVERY_S)

    async def settle(self, db: AsyncDatabase[dict[str, Any]]) -> int:
        """Index each waiting document its events have reached (or that waited long enough);
        how many changed."""
        if not self._pending or self.index is None:
            return 0
        gate = asyncio.Semaphore(READ_CONCURRENCY)

        async def read(doc_id: str) -> tuple[str, dict[str, Any] | None]:
            async with gate:
                return doc_id, await db[DOCUMENTS].find_one({"_id": doc_id}, READ_FIELDS)

        waiting = [(doc_id, p, dict(p.needs)) for doc_id, p in list(self._pending.items())[:1000]]
        found = await asyncio.gather(*(read(doc_id) for doc_id, _, _ in waiting))
        now = time.monotonic()
        ready: list[dict[str, Any]] = []
        gone: list[str] = []
        for (doc_id, pending, needs), (_, doc) in zip(waiting, found, strict=True):
            late = now - pending.since >= self.settings.search_wait_s
            if doc is not None and (late or _reflects(doc, needs)):
                ready.append(doc)
            elif doc is None and late:
                gone.append(doc_id)
            else:
                continue
            if late:
                log.warning("search index: %s taken as stored after waiting", doc_id)
            if self._pending.get(doc_id) is pending and pending.needs == needs:
                del self._pending[doc_id]  # else an event came meanwhile: it waits on
        if not (ready or gone):
            return 0
        index = self.index

        def write() -> None:
            index.put(ready)
            index.remove(gone)
            index.commit()

        await asyncio.to_thread(write)
        return len(ready) + len(gone)


def _reflects(doc: Mapping[str, Any], needs: Mapping[TopicPartition, int]) -> bool:
    return all(applied_position(doc, tp.topic, tp.partition) >= o for tp, o in needs.items())
