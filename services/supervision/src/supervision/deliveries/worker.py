"""The deliveries worker (`python -m supervision.deliveries`): a faust app of its own consumer
group that reads every event topic and every dead-letter topic, stores a delivery for each
notice a subscription asks for and makes its attempts; its group's leader also runs the retry
scan. More replicas share the partitions (and the first attempts); retries run on the leader.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors
from pymongo.errors import PyMongoError

from fazhi.bus import KafkaPublisher, PublishError
from fazhi.bus.batching import batches
from fazhi.bus.worker import ensure_indexes_retrying, faust_app, run_worker
from fazhi.bus.workerwatch import install as install_watch
from fazhi.metrics import service_metrics
from fazhi.store import mongo_client
from supervision.config import Settings
from supervision.deliveries import store
from supervision.deliveries.dispatch import Dispatcher
from supervision.deliveries.domain import (
    TOPICS,
    Notice,
    RetrySchedule,
    UrlPolicy,
    record_notices,
)
from supervision.deliveries.sending import Sender

log = logging.getLogger(__name__)


def _headers(message: Any) -> list[tuple[str, bytes]]:
    headers = message.headers or []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k), bytes(v) if v is not None else b"") for k, v in items]


def _when(message: Any) -> datetime:
    stamp = getattr(message, "timestamp", None)
    return datetime.fromtimestamp(stamp, UTC) if stamp else datetime.now(UTC)


def create_app(settings: Settings | None = None) -> faust.App:
    settings = settings or Settings()
    app = faust_app(
        settings.deliveries_group,
        settings,
        log_name="supervision-deliveries",
        web_port=settings.deliveries_web_port,
        offset_reset="latest",
    )
    setup_prometheus_sensors(app, name_prefix="supervision_deliveries")
    watch = install_watch(
        app, settings, service_metrics("supervision"), prefix="supervision_deliveries", topics=()
    )
    topics = app.topic(
        *TOPICS, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    held: dict[str, Dispatcher] = {}

    async def dispatcher() -> Dispatcher:
        if "d" not in held:
            mongo = mongo_client(settings)
            db = mongo[settings.mongo_db]
            await ensure_indexes_retrying(db, store.ensure_indexes)
            publisher = KafkaPublisher(settings.kafka(), client_id="supervision-deliveries")
            await publisher.start()
            held["d"] = Dispatcher(
                db=db,
                sender=Sender(
                    UrlPolicy(allow_private=settings.webhook_allow_private),
                    timeout_s=settings.delivery_timeout_s,
                    max_connections=settings.delivery_concurrency,
                ),
                master=settings.master(),
                publisher=publisher,
                schedule=RetrySchedule.parse(settings.delivery_retries),
                concurrency=settings.delivery_concurrency,
                subscription_cache_s=settings.subscription_cache_s,
            )
        return held["d"]

    @app.agent(topics, name="supervision-deliveries")
    async def deliver(stream: Any) -> None:
        work = await dispatcher()
        watch.started()
        async for events in batches(stream, settings):
            watch.begin()
            for event in events:  # acked only once its deliveries are stored
                event.message.incref()
            found: list[Notice] = []
            for event in events:
                message = event.message
                found += record_notices(
                    message.topic, _headers(message), message.value, _when(message)
                )
            while True:
                try:
                    await work.take(found)
                    break
                except PyMongoError as exc:  # the records are fine: never dropped
                    log.warning("deliveries not stored yet, retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(1.0)
            for event in events:
                event.ack()
            watch.done(events)

    async def retries() -> None:
        try:
            await (await dispatcher()).scan()
        except (PyMongoError, PublishError) as exc:  # the next tick tries again
            log.warning("retry scan failed", extra={"error": repr(exc)})

    app.timer(settings.retry_scan_s, on_leader=True, name="delivery-retries")(retries)
    return app


def main(argv: Sequence[str] = ()) -> None:
    run_worker(create_app(), argv)


def __getattr__(name: str) -> faust.App:
    if name == "app":  # `faust -A supervision.deliveries.worker worker`
        return create_app()
    raise AttributeError(name)
