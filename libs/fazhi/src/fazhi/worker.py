"""The faust-streaming worker of a service: its agent feeds every record to an `EventProcessor`."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi import retention
from fazhi.catalog import EventCatalog
from fazhi.consumer import AggregateCache, DeadLetter, EventProcessor, Record
from fazhi.contracts import topic_of_type
from fazhi.envelope import CHINA_TZ, CloudEvent
from fazhi.logs import JsonFormatter
from fazhi.metrics import service_metrics
from fazhi.projection import MongoStore
from fazhi.publisher import KafkaPublisher, Publisher, PublishError
from fazhi.reactions import Reactions, Subscription, subscribe
from fazhi.runtime import IndexSetup, keyring, mongo_client
from fazhi.sealing import Keyring
from fazhi.settings import ServiceSettings

log = logging.getLogger(__name__)


S = TypeVar("S", bound=ServiceSettings)
S_contra = TypeVar("S_contra", bound=ServiceSettings, contravariant=True)
"""A timer for any settings is a timer for a service's own."""
PUBLISH_CHUNK = 500
"""The most events a timer hands the producer at once."""


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


@dataclass
class TimerContext(Generic[S]):
    """What a worker timer gets: its service's settings (typed), database and publisher, and the
    clock. A timer publishes what it derives with `publish`."""

    settings: S
    db: AsyncDatabase[dict[str, Any]]
    publisher: Publisher
    clock: Callable[[], datetime] = field(default=_now, repr=False)
    name: str = ""
    """The timer's name (its log lines)."""
    _sent: set[str] = field(default_factory=set, repr=False)
    _sent_on: date | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return self.clock().astimezone(CHINA_TZ)

    async def publish(self, events: Iterable[CloudEvent]) -> int:
        """Publish derived events (`fazhi.contracts.derived_event`: deterministic ids, so a
        second look or a second worker publishes the same ones, which consumers take once), each
        on its type's topic, in chunks. An event this timer published already today is left out:
        a timer looks again until its event is projected, and would only repeat it. Returns how
        many were published."""
        today = self.now().date()
        if self._sent_on != today:
            self._sent, self._sent_on = set(), today
        by_topic: dict[str, list[CloudEvent]] = {}
        for event in events:
            if event.id not in self._sent:
                by_topic.setdefault(topic_of_type(event.type), []).append(event)
        published = 0
        for topic, fresh in by_topic.items():
            for start in range(0, len(fresh), PUBLISH_CHUNK):
                chunk = fresh[start : start + PUBLISH_CHUNK]
                await self.publisher.publish(topic, chunk)
                self._sent.update(event.id for event in chunk)
                published += len(chunk)
        if published:
            log.info("timer published", extra={"timer": self.name, "events": published})
        return published


@dataclass(frozen=True)
class Timer(Generic[S_contra]):
    """A periodic job of the worker (a faust timer run by the group's leader only): it derives
    events from time passing and publishes them with `TimerContext.publish`."""

    name: str
    interval_s: Callable[[S_contra], float]
    run: Callable[[TimerContext[S_contra]], Awaitable[None]]


@dataclass(frozen=True)
class DayLook(Generic[S]):
    """One day of a `DayScan`'s look: the day whose documents it found, and when it looks."""

    settings: S
    day: date
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


Derived = CloudEvent | Iterable[CloudEvent] | None
"""What a day scan derives from a document: one event, several, or none."""


def _today(settings: ServiceSettings, today: date) -> date:
    return today


@dataclass(frozen=True)
class DayScan(Generic[S_contra]):
    """A timer that looks at the documents due on each day since its last look: one equality on
    an indexed day field (`"YYYY-MM-DD"`) per day, never a range. Each look goes from the last
    day of the previous look (it may have filled since) to its `last_day`; the first ever starts
    `first_look_days` before it. Once what it found is published, its watermark is stored in the
    service's `marks` collection (`{"_id": name, "through": last day}`), so a stopped worker
    catches up from there. Run by the group's leader, like every timer; what `found` derives
    must carry deterministic ids."""

    name: str
    interval_s: Callable[[S_contra], float]
    collection: str
    day_field: str
    found: Callable[[dict[str, Any], DayLook[S_contra]], Derived]
    marks: str
    """The service's collection of timer watermarks, one document per timer."""
    first_look_days: int = 0
    """How many days before its last day the first look ever starts."""
    last_day: Callable[[S_contra, date], date] = _today
    """The last day a look takes, from the settings and today (default today)."""
    max_back_days: int | None = None
    """A look never starts further back than this before its last day (None: no bound)."""
    fields: Mapping[str, int] | None = None
    """The fields `found` needs (None: whole documents)."""

    async def look(
        self, t: TimerContext[S_contra], now: datetime | None = None
    ) -> list[CloudEvent]:
        """What a look at `now` (default the clock's) derives; it publishes nothing and leaves
        the watermark where it is."""
        return (await self._look(t, now or t.now()))[0]

    async def run(self, t: TimerContext[S_contra]) -> int:
        """One look: publish what it derives, then move the watermark. Returns how many events
        were published."""
        events, last = await self._look(t, t.now())
        published = await t.publish(events)
        await t.db[self.marks].replace_one(
            {"_id": self.name}, {"through": last.isoformat()}, upsert=True
        )
        return published

    def window(self, through: date | None, settings: S_contra, today: date) -> tuple[date, date]:
        """The first and last day of a look, given the watermark."""
        last = self.last_day(settings, today)
        first = through if through is not None else last - timedelta(days=self.first_look_days)
        if self.max_back_days is not None:
            first = max(first, last - timedelta(days=self.max_back_days))
        return first, last

    async def _look(
        self, t: TimerContext[S_contra], now: datetime
    ) -> tuple[list[CloudEvent], date]:
        now = now.astimezone(CHINA_TZ)
        mark = await t.db[self.marks].find_one({"_id": self.name})
        through = mark.get("through") if mark else None
        first, last = self.window(
            date.fromisoformat(through) if isinstance(through, str) else None,
            t.settings,
            now.date(),
        )
        events: list[CloudEvent] = []
        day = first
        while day <= last:
            look = DayLook(t.settings, day, now)
            async for doc in t.db[self.collection].find(
                {self.day_field: day.isoformat()}, self.fields
            ):
                found = self.found(doc, look)
                if isinstance(found, CloudEvent):
                    events.append(found)
                elif found is not None:
                    events.extend(found)
            day += timedelta(days=1)
        return events, last


def create_worker_app(
    *,
    catalog: EventCatalog,
    settings: S,
    reactions: Reactions,
    ensure_indexes: IndexSetup | None = None,
    timers: Sequence[Timer[S] | DayScan[S]] = (),
) -> faust.App:
    """A faust app consuming the service's own topic and the topics its `reactions` name.

    Consumer group = `<service>-worker`, so more replicas share the partitions.
    """
    subscription = subscribe(catalog, reactions)
    app_id = settings.consumer_group(catalog.service)
    datadir = Path(tempfile.gettempdir()) / "fazhi-faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        # Agents keep no tables here, so faust's data directory holds nothing worth keeping.
        datadir=str(datadir),
        broker=f"kafka://{settings.kafka_bootstrap}",
        autodiscover=False,
        store="memory://",
        web_enabled=True,
        web_bind=settings.worker_web_bind,
        web_port=settings.worker_web_port or 6066,
        topic_partitions=6,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(settings.session_timeout_s / 10, 1.0),
        logging_config=_logging_config(catalog.service, settings.log_level),
    )
    setup_prometheus_sensors(app, name_prefix=f"{catalog.service}_worker")
    catalogs = subscription.catalogs
    topics = app.topic(
        *catalogs, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    metrics = service_metrics(catalog.service)
    personal = retention.personal_collections(catalog)
    held: dict[str, Keyring] = {}
    """The agent's keyring, so the retention job makes it forget the keys it deletes."""

    @app.agent(topics, name=f"{catalog.service}-events")
    async def consume(stream: Any) -> None:
        mongo = mongo_client(settings)
        db = mongo[settings.mongo_db]
        publisher = KafkaPublisher(settings.kafka_bootstrap, client_id=f"{catalog.service}-worker")
        await publisher.start()
        await _ensure(db, ensure_indexes)
        await _ensure(db, lambda db: retention.ensure_indexes(db, personal))
        keys = held.setdefault("keys", keyring(settings, db))
        if keys.master.development:
            log.warning("personal data is sealed with the development master key: set MASTER_KEY")

        async def send_dead_letter(letter: DeadLetter) -> None:
            delay = 0.2
            while True:
                try:
                    await publisher.send_raw(
                        letter.topic,
                        key=letter.record.key,
                        value=letter.record.value,
                        headers=letter.headers(),
                    )
                    return
                except PublishError as exc:  # the broker must take it: a record is never dropped
                    log.warning("dead-letter send failed, retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

        processor = EventProcessor(
            store=MongoStore(db),
            cache=AggregateCache(settings.aggregate_cache_size),
            catalogs=catalogs,
            handlers=subscription.handlers,
            dead_letter=send_dead_letter,
            publisher=publisher,
            metrics=metrics,
            keyring=keys,
            own_topic=catalog.topic,
            group=app_id,
            max_attempts=settings.consumer_max_attempts,
            backoff_s=settings.consumer_retry_backoff_s,
        )
        try:
            batches = stream.take_events(settings.batch_max_events, within=settings.batch_max_s)
            async for events in batches:
                # `take_events` acks a batch when the next one is asked for, even when this
                # one was interrupted (a shutdown mid-batch). One more reference per message,
                # dropped only once the batch is applied, keeps an unapplied offset uncommitted.
                for event in events:
                    event.message.incref()
                await processor.process_batch(
                    [
                        Record(
                            topic=e.message.topic,
                            partition=e.message.partition,
                            offset=e.message.offset,
                            key=e.message.key,
                            value=e.message.value,
                        )
                        for e in events
                    ]
                )
                for event in events:
                    event.ack()
        finally:
            await publisher.stop()
            await mongo.close()

    async def purge_personal_data() -> None:
        mongo = mongo_client(settings)
        try:
            await retention.purge(
                mongo[settings.mongo_db],
                personal,
                today=datetime.now(CHINA_TZ).date(),
                days=settings.personal_data_retention_days,
                keyring=held.get("keys"),
            )
        except PyMongoError as exc:  # the next tick tries again
            log.warning("retention job failed", extra={"error": repr(exc)})
        finally:
            await mongo.close()

    if settings.retention_interval_s > 0:
        app.timer(interval=settings.retention_interval_s)(purge_personal_data)
    for timer in timers:
        _add_timer(app, catalog, settings, timer)
    return app


def _add_timer(
    app: faust.App, catalog: EventCatalog, settings: S, timer: Timer[S] | DayScan[S]
) -> None:
    held: list[TimerContext[S]] = []

    async def context() -> TimerContext[S]:
        if not held:
            publisher = KafkaPublisher(
                settings.kafka_bootstrap, client_id=f"{catalog.service}-{timer.name}"
            )
            await publisher.start()
            db = mongo_client(settings)[settings.mongo_db]
            held.append(TimerContext(settings, db, publisher, name=timer.name))
        return held[0]

    async def tick() -> None:
        try:
            await timer.run(await context())
        except (PyMongoError, PublishError) as exc:  # the next tick tries again
            log.warning("timer failed", extra={"timer": timer.name, "error": repr(exc)})

    tick.__name__ = tick.__qualname__ = f"{catalog.service}_{timer.name}"
    app.timer(timer.interval_s(settings), on_leader=True, name=timer.name)(tick)


async def _ensure(db: AsyncDatabase[dict[str, Any]], ensure_indexes: IndexSetup | None) -> None:
    delay = 0.5
    while True:
        try:
            if ensure_indexes is not None:
                await ensure_indexes(db)
            return
        except PyMongoError as exc:
            log.warning("mongodb not ready for indexes, retrying", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _logging_config(service: str, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": f"{service}-worker"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
        "loggers": {
            name: {"level": "WARNING"} for name in ("aiokafka", "faust", "mode", "pymongo")
        },
    }


def run_worker(app: faust.App, argv: Sequence[str] = ()) -> None:
    """Run `app` as the faust CLI would (`worker` by default)."""
    sys.argv = [sys.argv[0], *(argv or sys.argv[1:] or ["worker", "--loglevel", "warn"])]
    app.main()


@dataclass(frozen=True)
class WorkerEntry(Generic[S]):
    """A service's worker entry points: `create` for tests, `main` for `python -m`, and
    `module_getattr` as the module's `__getattr__`, so `faust -A <pkg>.worker` finds `app`
    without anything being built at import time."""

    catalog: EventCatalog
    settings: Callable[[], S]
    reactions: Reactions
    ensure_indexes: IndexSetup | None = None
    timers: Sequence[Timer[S] | DayScan[S]] = field(default=())

    def subscription(self) -> Subscription:
        return subscribe(self.catalog, self.reactions)

    def create(self, settings: S | None = None) -> faust.App:
        return create_worker_app(
            catalog=self.catalog,
            settings=settings or self.settings(),
            reactions=self.reactions,
            ensure_indexes=self.ensure_indexes,
            timers=self.timers,
        )

    def module_getattr(self, name: str) -> faust.App:
        if name == "app":
            return self.create()
        raise AttributeError(name)

    def main(self) -> None:
        run_worker(self.create())
