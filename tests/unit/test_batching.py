"""How a worker takes its records (`fazhi.bus.batching`): a lone record is applied without
waiting out a timer, a backlog still fills whole batches, an idle worker sleeps, and a batch's
records are acknowledged only once the worker asks for the next batch.

The stream is faust's own, fed through an in-memory channel (the batching, not Kafka, is what
is tested here; the workers run it against the broker in the integration and fault tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest

from fazhi.bus.batching import LingeringStream

GAP_S = 0.05
"""Far above the scheduling noise of a busy machine, far below the pauses the tests make."""
PAUSE_S = 0.4


async def faust_stream() -> AsyncIterator[LingeringStream]:
    app = faust.App("test-batching", store="memory://", Stream=LingeringStream)
    app.finalize()
    app.loop = asyncio.get_running_loop()
    app.flow_control.resume()  # suspended until a worker starts; nothing starts here
    stream = app.channel(loop=app.loop, maxsize=1000).stream(loop=app.loop)
    async with stream:
        yield stream


@pytest.fixture
async def stream() -> AsyncIterator[LingeringStream]:
    async for made in faust_stream():
        yield made


class Taker:
    """Takes batches in the background, as a worker's agent does."""

    def __init__(self, stream: LingeringStream, max_: int, within_s: float = 30.0) -> None:
        self.batches: list[list[Any]] = []
        self.events: list[list[Any]] = []
        self.arrived = asyncio.Event()
        self.next = asyncio.Event()
        self.hold = False
        self._task = asyncio.create_task(self._take(stream, max_, within_s))

    async def _take(self, stream: LingeringStream, max_: int, within_s: float) -> None:
        async for batch in stream.take_batches(max_, within_s=within_s, gap_s=GAP_S):
            self.batches.append([event.value for event in batch])
            self.events.append(batch)
            self.arrived.set()
            if self.hold:
                await self.next.wait()
                self.next.clear()

    async def batch(self) -> list[Any]:
        await asyncio.wait_for(self.arrived.wait(), 10)
        self.arrived.clear()
        return self.batches[-1]

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def send(stream: LingeringStream, values: range) -> None:
    for value in values:
        await stream.channel.send(value=value)


async def test_a_burst_is_one_batch_and_a_full_batch_goes_at_once(
    stream: LingeringStream,
) -> None:
    taker = Taker(stream, max_=5)
    await send(stream, range(3))
    assert await taker.batch() == [0, 1, 2]
    await send(stream, range(3, 10))
    assert await taker.batch() == [3, 4, 5, 6, 7]
    assert await taker.batch() == [8, 9]
    await taker.stop()


async def test_a_backlog_keeps_the_batch_open_until_it_is_full(
    stream: LingeringStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LingeringStream, "_behind", lambda self, event: True)
    taker = Taker(stream, max_=5)
    await send(stream, range(3))
    await asyncio.sleep(PAUSE_S)  # many gaps: a worker that caught up would have gone
    assert taker.batches == []
    await send(stream, range(3, 5))
    assert await taker.batch() == [0, 1, 2, 3, 4]
    await taker.stop()


async def test_a_backlog_batch_still_closes_within_its_time(
    stream: LingeringStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LingeringStream, "_behind", lambda self, event: True)
    taker = Taker(stream, max_=500, within_s=GAP_S * 2)
    await send(stream, range(3))
    await asyncio.sleep(PAUSE_S)
    await send(stream, range(3, 5))
    assert await taker.batch() == [0, 1, 2]
    assert await taker.batch() == [3, 4]
    await taker.stop()


async def test_an_idle_worker_sleeps_instead_of_waking_on_a_timer(
    stream: LingeringStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits = 0
    wait_for_stopped = stream.wait_for_stopped

    async def counted(*args: Any, **kwargs: Any) -> bool:
        nonlocal waits
        waits += 1
        return await wait_for_stopped(*args, **kwargs)

    monkeypatch.setattr(stream, "wait_for_stopped", counted)
    taker = Taker(stream, max_=5)
    await asyncio.sleep(PAUSE_S)  # faust's take_events would have woken every `within`
    assert waits == 1
    await send(stream, range(1))
    assert await taker.batch() == [0]
    await taker.stop()


async def test_a_batch_is_acknowledged_only_when_the_next_is_asked_for(
    stream: LingeringStream,
) -> None:
    acked: list[Any] = []

    async def ack(event: Any) -> bool:
        acked.append(event.value)
        return True

    stream.ack = ack  # type: ignore[method-assign]
    taker = Taker(stream, max_=5)
    taker.hold = True
    await send(stream, range(2))
    assert await taker.batch() == [0, 1]
    await asyncio.sleep(PAUSE_S)  # the batch is being applied
    assert acked == []
    assert stream.enable_acks is False  # faust's own acking is off while batches are taken
    taker.next.set()
    await send(stream, range(2, 3))
    assert await taker.batch() == [2]
    assert acked == [0, 1]
    await taker.stop()
