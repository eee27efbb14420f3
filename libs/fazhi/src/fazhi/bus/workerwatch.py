"""What operators watch of a worker, on its web port beside `/metrics`.

`/livez` fails when restarting the worker would help: its event loop answers late (a blocking
call held it), a batch has been in hand for `stuck_after_s` while MongoDB answers (a handler
hangs), or records wait on a partition it holds and none has come for `stuck_after_s` (the
consumer stopped fetching). A loop that hangs outright does not answer at all, which fails the
probe just the same. `/readyz` fails until the agent consumes, and while MongoDB does not answer.

It also exports `<prefix>_worker_leader` (1 on the replica that runs the group's timers) and
starts the dead-letter counter of every consumed topic at 0, so the first dead letter after a
start is an increase that the alert sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted
from prometheus_client import Gauge
from pymongo.errors import PyMongoError

from fazhi.metrics import Metrics
from fazhi.settings import ServiceSettings
from fazhi.store.connect import mongo_client

HEARTBEAT_S = 1.0


@dataclass
class WorkerWatch:
    """The agent's progress, as the health routes read it."""

    stuck_after_s: float = 300.0
    loop_late_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    consuming: bool = False
    batch_since: float | None = None
    last_record_at: float = field(default_factory=time.monotonic)
    last_beat: float | None = None
    """When the loop's heartbeat last ran (None until the worker's tasks start)."""
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """The next offset the agent will read, per partition it has read from."""

    def started(self) -> None:
        self.consuming = True
        self.last_record_at = self.clock()

    def begin(self) -> None:
        """A batch is in hand."""
        self.batch_since = self.clock()

    def done(self, events: Iterable[Any]) -> None:
        """The batch of faust events is applied."""
        for event in events:
            message = event.message
            self.next_offsets[(message.topic, message.partition)] = message.offset + 1
        self.batch_since = None
        self.last_record_at = self.clock()

    async def beat(self) -> None:
        while True:
            self.last_beat = self.clock()
            await asyncio.sleep(HEARTBEAT_S)

    def loop_late(self) -> float:
        """How late the loop's heartbeat is now (0 while the loop runs freely, or before the
        worker's tasks start: a slow start is the startup probe's business)."""
        if self.last_beat is None:
            return 0.0
        return max(0.0, self.clock() - self.last_beat - HEARTBEAT_S)

    def batch_stuck(self) -> float:
        """How long the batch in hand has been there, if longer than `stuck_after_s`."""
        held = 0.0 if self.batch_since is None else self.clock() - self.batch_since
        return held if held > self.stuck_after_s else 0.0

    def waiting(self, highwaters: dict[tuple[str, int], int]) -> list[str]:
        """Partitions with records the agent has not read, when none has come for
        `stuck_after_s` (a partition it never read from is not judged)."""
        if self.batch_since is not None or self.clock() - self.last_record_at < self.stuck_after_s:
            return []
        return [
            f"{topic}/{partition}"
            for (topic, partition), end in highwaters.items()
            if (topic, partition) in self.next_offsets
            and end > self.next_offsets[(topic, partition)]
        ]


def install(
    app: faust.App,
    settings: ServiceSettings,
    metrics: Metrics,
    *,
    prefix: str,
    topics: Sequence[str],
) -> WorkerWatch:
    """Health routes, the leader gauge and dead-letter counters born at 0, on `app`."""
    watch = WorkerWatch()
    mongo: list[Any] = []
    for topic in topics:
        metrics.dead_lettered.labels(topic=topic)

    def leads() -> float:
        try:
            return 1.0 if app.is_leader() else 0.0
        except ConsumerNotStarted:
            return 0.0

    leader_gauge(prefix).set_function(leads)

    async def mongo_answers() -> bool:
        if not mongo:
            mongo.append(mongo_client(settings))
        try:
            await mongo[0].admin.command("ping")
        except PyMongoError:
            return False
        return True

    def highwaters() -> dict[tuple[str, int], int]:
        consumer = app.consumer
        found: dict[tuple[str, int], int] = {}
        try:
            assigned = consumer.assignment()
        except ConsumerNotStarted:
            return found
        for tp in assigned:
            try:
                found[(tp.topic, tp.partition)] = int(consumer.highwater(tp))
            except (KeyError, TypeError, ValueError):  # not fetched yet
                continue
        return found

    @app.task  # type: ignore[untyped-decorator]
    async def heartbeat() -> None:
        await watch.beat()

    @app.page("/livez")
    async def livez(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        problems: dict[str, Any] = {}
        if (late := watch.loop_late()) > watch.loop_late_s:
            problems["event_loop_late_s"] = round(late, 1)
        if (held := watch.batch_stuck()) and await mongo_answers():
            problems["batch_in_hand_s"] = round(held, 1)
        if waiting := watch.waiting(highwaters()):
            problems["records_waiting_on"] = waiting
        status = 503 if problems else 200
        return web.json({"status": "stuck" if problems else "alive", **problems}, status=status)

    @app.page("/readyz")
    async def readyz(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        checks = {
            "agent": "consuming" if watch.consuming else "starting",
            "mongodb": "ok" if await mongo_answers() else "unreachable",
        }
        ready = watch.consuming and checks["mongodb"] == "ok"
        return web.json(
            {"status": "ready" if ready else "not-ready", "checks": checks},
            status=200 if ready else 503,
        )

    return watch


_leaders: dict[str, Gauge] = {}


def leader_gauge(prefix: str) -> Gauge:
    """`<prefix>_worker_leader`: 1 on the replica that leads the group (and runs its timers)."""
    if prefix not in _leaders:
        _leaders[prefix] = Gauge(
            f"{prefix}_worker_leader",
            "1 if this worker replica leads its group and runs the timers, else 0.",
        )
    return _leaders[prefix]
