"""The faust-streaming worker of a service: its agent feeds every record to an `EventProcessor`."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Generic

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from fazhi.bus import audit, workerwatch
from fazhi.bus.batch import AggregateCache
from fazhi.bus.batching import LingeringStream, batches
from fazhi.bus.consumer import EventProcessor, until_applied
from fazhi.bus.publisher import KafkaPublisher, PublishError
from fazhi.bus.reactions import Reactions, Subscription, subscribe
from fazhi.bus.records import DeadLetter, Record
from fazhi.bus.timers import DayScan, S, Timer, TimerContext
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.logs import JsonFormatter
from fazhi.metrics import service_metrics
from fazhi.settings import ServiceSettings
from fazhi.store import retention
from fazhi.store.catalog import EventCatalog
from fazhi.store.connect import IndexSetup, keyring, mongo_client
from fazhi.store.projection import MongoStore
from fazhi.store.sealing import Keyring
from fazhi.topology import PARTITIONS

log = logging.getLogger(__name__)


class Worker(faust.Worker):
    """faust's worker, without its start-up spinner when stdout is not a terminal: the spinner
    hides and shows the cursor with escape codes and backspaces over itself, which a log file
    (`make run`'s, a container's) would keep as garbage. On a terminal it spins as usual."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not _is_tty(self.stdout):
            self.spinner = None


def _is_tty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


"""What a day scan derives from a document: one event, several, or none."""


def faust_app(
    app_id: str, settings: ServiceSettings, *, log_name: str, web_port: int, offset_reset: str
) -> faust.App:
    """A faust app as every Fazhi worker runs one: its consumer group `app_id`; JSON logs named
    `log_name` and no start-up spinner outside a terminal (`Worker`); batches taken as
    `fazhi.bus.batching` takes them; offsets committed after every batch; faust's own topics
    (the leader topic that elects the replica running the timers) as replicated as the event
    topics, so the loss of one broker does not take the timers' leader away; no tables, so its
    data directory holds nothing worth keeping."""
    datadir = Path(tempfile.gettempdir()) / "fazhi-faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        datadir=str(datadir),
        **settings.kafka().faust(),
        autodiscover=False,
        store="memory://",
        web_enabled=True,
        web_bind=settings.worker_web_bind,
        web_port=web_port,
        topic_partitions=PARTITIONS,
        topic_replication_factor=settings.kafka_topic_replication,
        consumer_auto_offset_reset=offset_reset,
        producer_acks=-1,
        broker_commit_every=1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(settings.session_timeout_s / 10, 1.0),
        logging_config=_logging_config(log_name, settings.log_level),
        Worker=Worker,
        Stream=LingeringStream,
    )


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
    settings.master()  # no master key: refuse to start (see ServiceSettings.master)
    subscription = subscribe(catalog, reactions)
    app_id = settings.consumer_group(catalog.service)
    app = faust_app(
        app_id,
        settings,
        log_name=f"{catalog.service}-worker",
        web_port=settings.worker_web_port or 6066,
        offset_reset="earliest",
    )
    setup_prometheus_sensors(app, name_prefix=f"{catalog.service}_worker")
    catalogs = subscription.catalogs
    topics = app.topic(
        *catalogs, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    metrics = service_metrics(catalog.service)
    watch = workerwatch.install(
        app, settings, metrics, prefix=catalog.service, topics=subscription.topics
    )
    personal = retention.personal_collections(catalog)
    held: dict[str, Keyring] = {}
    """The agent's keyring, so the retention job makes it forget the keys it deletes."""

    @app.agent(topics, name=f"{catalog.service}-events")
    async def consume(stream: Any) -> None:
        mongo = mongo_client(settings)
        db = mongo[settings.mongo_db]
        publisher = KafkaPublisher(settings.kafka(), client_id=f"{catalog.service}-worker")
        await publisher.start()
        await ensure_indexes_retrying(db, ensure_indexes)
        await ensure_indexes_retrying(db, lambda db: retention.ensure_indexes(db, personal))
        await ensure_indexes_retrying(db, audit.ensure_indexes)
        keys = held.setdefault("keys", keyring(settings, db))
        watch.started()
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
            async for events in batches(stream, settings):
                # `take_events` acks a batch when the next one is asked for, even when this
                # one was interrupted (a shutdown mid-batch). One more reference per message,
                # dropped only once the batch is applied, keeps an unapplied offset uncommitted.
                for event in events:
                    event.message.incref()
                watch.begin()
                records = [
                    Record(
                        topic=e.message.topic,
                        partition=e.message.partition,
                        offset=e.message.offset,
                        key=e.message.key,
                        value=e.message.value,
                        time=_record_time(e.message.timestamp),
                    )
                    for e in events
                ]
                await until_applied(
                    partial(processor.process_batch, records), what=_describe(records)
                )
                watch.done(events)
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
                settings.kafka(), client_id=f"{catalog.service}-{timer.name}"
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


async def ensure_indexes_retrying(
    db: AsyncDatabase[dict[str, Any]], ensure_indexes: IndexSetup | None
) -> None:
    """Create a worker's indexes, waiting out a database that does not answer yet."""
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


def _logging_config(name: str, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "service": name}},
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
    carried: Sequence[str] = field(default=())
    """Collections of the service's database that are not projections of the log (the
    timers' watermarks beside the day scans' own, registries the api keeps that handlers
    read): a replay copies them from the live database (`fazhi.bus.replay`)."""

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


def _describe(records: Sequence[Record]) -> str:
    """Where a batch's records are: each partition's first and last offset."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for r in records:
        first, _ = spans.get((r.topic, r.partition), (r.offset, r.offset))
        spans[(r.topic, r.partition)] = (first, r.offset)
    return ", ".join(f"{t}/{p}@{a}-{b}" for (t, p), (a, b) in spans.items())


def _record_time(timestamp: float | None) -> datetime | None:
    """A record's timestamp (faust gives seconds; none is 0 or less) as a UTC time."""
    return datetime.fromtimestamp(timestamp, UTC) if timestamp and timestamp > 0 else None
