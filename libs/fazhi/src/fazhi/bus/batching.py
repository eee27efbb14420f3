"""How a worker takes its records from faust: in batches that close once records stop coming.

faust's `Stream.take_events(max_, within)` waits out a fixed `within` timer before every batch,
records or not: an event waits half of it on average at every worker it passes (an inspection
finding passes two before its item can be read), and an idle worker wakes up at that rate.
`LingeringStream.take_batches` waits without a timer until the first record of a batch is
buffered, then takes more: the batch closes when `max_` are buffered or `within_s` after it
opened, and, while the worker has caught up with the log (its newest record was the last one
of its partition when fetched), as soon as no record came for `gap_s`. An idle worker sleeps;
a lone event waits about `gap_s`; a backlog fills batches as faust's timer did. Acknowledgement is faust's:
the events of a batch are acked when the next batch is asked for (or the generator is
closed), so an offset is never committed before its batch was applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any, cast

import faust
from faust.streams import _tracks_buffer_agen
from faust.types import ChannelT, EventT
from mode.utils.futures import notify
from mode.utils.locks import Event

from fazhi.settings import ServiceSettings


class LingeringStream(faust.Stream[Any]):
    """faust's stream with `take_batches` (set as the worker app's `Stream`)."""

    @_tracks_buffer_agen
    async def take_batches(
        self, max_: int, *, within_s: float, gap_s: float
    ) -> AsyncGenerator[list[EventT[Any]], None]:
        """Lists of up to `max_` events (see the module)."""
        events: list[EventT[Any]] = []
        has_events, full, consumed = Event(), Event(), Event()
        consuming: asyncio.Future[None] | None = None

        async def add_to_buffer(value: Any) -> Any:
            # faust runs this for each record as its passive drainer reads the channel.
            nonlocal consuming
            try:
                if consuming is not None:  # a batch is being applied: wait for the next one
                    try:
                        await consuming
                    finally:
                        consuming = None
                event = self.current_event
                if event is None:
                    raise RuntimeError("take buffer found current_event is None")
                events.append(event)
                has_events.set()
                if len(events) >= max_:
                    full.set()
                    consumed.clear()
                    await self.wait(consumed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.exception("Error adding to take buffer: %r", exc)
                await self.crash(exc)
            return value

        enable_acks = self.enable_acks
        self.enable_acks = False  # acked below, once the batch was applied
        self.add_processor(add_to_buffer)
        self._enable_passive(cast(ChannelT[Any], aiter(self.channel)))
        loop = asyncio.get_running_loop()
        try:
            while not self.should_stop:
                if not events and await self.wait_for_stopped(has_events):
                    break
                closes_at = loop.time() + within_s
                seen = 0
                while not full.is_set() and len(events) > seen:
                    seen = len(events)
                    left = closes_at - loop.time()
                    wait = left if self._behind(events[-1]) else min(gap_s, left)
                    if left <= 0 or await self.wait_for_stopped(full, timeout=wait):
                        break
                if not events:
                    continue
                consuming = loop.create_future()
                batch = list(events)
                try:
                    yield batch
                finally:
                    events.clear()
                    has_events.clear()
                    for event in batch:
                        await self.ack(event)
                    notify(consuming)
                    full.clear()
                    consumed.set()
        finally:
            self.enable_acks = enable_acks
            self._processors.remove(add_to_buffer)

    def _behind(self, event: EventT[Any]) -> bool:
        """Whether the log held more records after `event`'s when it was fetched (the
        partition's high-water mark then): a backlog, so the batch waits to fill."""
        message = event.message
        try:
            highwater = self.app.consumer.highwater(message.tp)
        except Exception:  # no consumer or partition (yet): as if caught up
            return False
        return highwater is not None and highwater > message.offset + 1


def batches(stream: Any, settings: ServiceSettings) -> AsyncGenerator[list[EventT[Any]], None]:
    """The batches a worker's agent applies, sized and timed by its settings."""
    if not isinstance(stream, LingeringStream):
        raise TypeError("the worker app needs Stream=LingeringStream (fazhi.bus.batching)")
    return stream.take_batches(
        settings.batch_max_events, within_s=settings.batch_max_s, gap_s=settings.batch_gap_s
    )
