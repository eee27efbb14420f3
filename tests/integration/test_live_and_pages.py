"""The shared pieces of list and live endpoints, on the real stack: cursor pages over FerretDB,
and live feeds over Kafka that a viewer resumes without missing or repeating an event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI, Header, WebSocket
from fastapi.testclient import TestClient
from pymongo import AsyncMongoClient, MongoClient
from starlette.websockets import WebSocketDisconnect

from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, kafka_headers, new_event
from fazhi.roles import Role
from fazhi.web.auth import KeyStore
from fazhi.web.live import (
    WS_BAD_POSITION,
    WS_UNAUTHENTICATED,
    KafkaFeed,
    sse_response,
    websocket_relay,
)
from fazhi.web.pagination import PageParams, decode_cursor, fetch_page, page_params
from fazhi.web.problems import Problem, install_problem_handlers
from tests.conftest import create_key
from tests.support.processes import AUTH_DB, KAFKA, MONGO

pytestmark = pytest.mark.integration

SHOWN = "test.thing.happened"
OTHER = "test.thing.ignored"


@pytest.fixture
async def topic() -> AsyncIterator[str]:
    name = f"test.live.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


def thing(n: int, kind: str = SHOWN) -> CloudEvent:
    return new_event(
        type=kind, source="/units/justice", subject=f"thing-{n}", data={"n": n}, id=f"e-{n}"
    )


async def produce(topic: str, *events: CloudEvent) -> None:
    """One at a time, each acknowledged before the next, a few milliseconds apart: the order
    a department posts them. (Kafka stamps records to the millisecond; two appended to
    different partitions within one millisecond have no order between them.)"""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic, event.to_bytes(), key=event.subject.encode(), headers=kafka_headers(event)
            )
            await asyncio.sleep(0.003)
    finally:
        await producer.stop()


async def take(stream: AsyncIterator[tuple[str, CloudEvent]], n: int) -> list[tuple[str, int]]:
    got: list[tuple[str, int]] = []
    async with asyncio.timeout(20):
        async for position, event in stream:
            got.append((position, event.data["n"]))
            if len(got) == n:
                break
    return got


async def test_a_viewer_resuming_from_its_last_id_gets_exactly_what_it_missed(topic: str) -> None:
    feed = KafkaFeed(KAFKA, [topic], {SHOWN}, poll_ms=100)
    ticks = feed.ticks(None)
    start, nothing = await anext(ticks)
    assert nothing is None
    await produce(topic, thing(1), thing(2, OTHER), thing(3))
    seen: list[tuple[str, int]] = []
    async with asyncio.timeout(20):
        async for position, event in ticks:
            if event is not None:
                seen.append((position, event.data["n"]))
            if len(seen) == 2:
                break
    await ticks.aclose()
    assert [n for _, n in seen] == [1, 3]  # the other type is passed over
    last = seen[-1][0]

    # Gone for a while: three more happen (on different partitions), then it comes back.
    await produce(topic, thing(4), thing(5, OTHER), thing(6), thing(7))
    resumed = await take(feed.follow(last), 3)
    assert [n for _, n in resumed] == [4, 6, 7]

    # From its very first position, the same viewer would have had all of them, in order.
    everything = await take(feed.follow(start), 5)
    assert [n for _, n in everything] == [1, 3, 4, 6, 7]
    # And resuming from the last of them shows nothing old when something new comes.
    await produce(topic, thing(8))
    assert [n for _, n in await take(feed.follow(resumed[-1][0]), 1)] == [8]


async def test_a_last_event_id_the_feed_never_gave_is_a_problem(topic: str) -> None:
    feed = KafkaFeed(KAFKA, [topic], {SHOWN})
    for bad in ("x", "0.0:1,", "9.0:1", "0.0:-1", "1" * 20_000):
        with pytest.raises(Problem) as caught:
            await sse_response(feed, bad)
        assert caught.value.status == 400


@pytest.fixture
def key() -> str:
    return create_key("justice", "staff")


def relay_app(topic: str) -> FastAPI:
    # The key store lives as long as the app, as in a service: a relay that closes a socket
    # returns at once (a database client closed per socket made the test client's exit race
    # the endpoint's own end on a busy machine).
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
        app.state.keys = KeyStore(mongo[AUTH_DB])
        try:
            yield
        finally:
            await mongo.close()

    app = FastAPI(lifespan=lifespan)
    install_problem_handlers(app)
    feed = KafkaFeed(KAFKA, [topic], {SHOWN}, poll_ms=100)

    @app.websocket("/live")
    async def live(websocket: WebSocket) -> None:
        await websocket_relay(
            websocket,
            feed,
            keys=websocket.app.state.keys,
            allowed=lambda who: who.has(Role.STAFF),
            heartbeat_s=0.5,
        )

    @app.get("/stream")
    async def stream(last_event_id: str | None = Header(None)) -> Any:
        return await sse_response(feed, last_event_id, heartbeat_s=0.5)

    return app


@pytest.fixture
def http(topic: str) -> Iterator[TestClient]:
    with TestClient(relay_app(topic)) as client:
        yield client


def frames(ws: Any, n: int) -> list[dict[str, Any]]:
    """The next `n` frames that carry an event (heartbeats only move the position)."""
    got: list[dict[str, Any]] = []
    while len(got) < n:
        frame = json.loads(ws.receive_text())
        if frame["event"] is not None:
            got.append(frame)
    return got


def test_a_websocket_client_that_reconnects_gets_the_three_it_missed(
    http: TestClient, topic: str, key: str
) -> None:
    with http.websocket_connect("/live") as ws:
        ws.send_text(json.dumps({"authorization": f"Bearer {key}"}))
        first = json.loads(ws.receive_text())
        assert first["event"] is None  # where it starts
        asyncio.run(produce(topic, thing(1)))
        [one] = frames(ws, 1)
        assert one["event"]["data"] == {"n": 1}
        assert one["event"]["type"] == SHOWN
    asyncio.run(produce(topic, thing(2), thing(3, OTHER), thing(4), thing(5)))
    with http.websocket_connect("/live") as ws:
        ws.send_text(json.dumps({"authorization": f"Bearer {key}", "last_event_id": one["id"]}))
        missed = frames(ws, 3)
    assert [f["event"]["data"]["n"] for f in missed] == [2, 4, 5]
    assert [f["event"]["id"] for f in missed] == ["e-2", "e-4", "e-5"]


def test_a_websocket_without_a_good_key_is_closed_4401(http: TestClient) -> None:
    with http.websocket_connect("/live") as ws:
        ws.send_text(json.dumps({"authorization": "Bearer fz_unknown"}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == WS_UNAUTHENTICATED


def test_a_bad_last_event_id_on_the_stream_is_a_400_problem(http: TestClient) -> None:
    response = http.get("/stream", headers={"Last-Event-ID": "nonsense"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "Last-Event-ID" in response.json()["detail"]


@pytest.mark.parametrize(
    "position",
    [
        "0.0:0",  # one partition of three: the others would be replayed from their start
        "0.0:0,0.1:0,0.2:0,0.7:0",  # a partition the topic does not have
        "0.0:0,0.1:0,0.2:999999",  # an offset the partition never reached
    ],
)
def test_a_position_the_feed_never_gave_is_refused_not_replayed(
    http: TestClient, topic: str, key: str, position: str
) -> None:
    asyncio.run(produce(topic, thing(1), thing(2)))
    response = http.get("/stream", headers={"Last-Event-ID": position})
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("bad-last-event-id")
    with http.websocket_connect("/live") as ws:
        ws.send_text(json.dumps({"authorization": f"Bearer {key}", "last_event_id": position}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == WS_BAD_POSITION


@pytest.fixture
def things(mongo: MongoClient[dict[str, Any]]) -> Iterator[str]:
    db = f"test_pages_{uuid.uuid4().hex[:8]}"
    day = datetime(2026, 10, 1, 9, tzinfo=CHINA_TZ)
    mongo[db]["things"].insert_many(
        [
            {
                "_id": f"t-{i:03d}",
                "unit": "justice" if i % 3 else "finance",
                "due_day": f"2026-10-{1 + i % 7:02d}",
                "at": day + timedelta(hours=i % 11),
            }
            for i in range(120)
        ]
    )
    yield db
    mongo.drop_database(db)


async def all_pages(db: str, filter: dict[str, Any], limit: int, **kw: Any) -> list[list[str]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    pages: list[list[str]] = []
    params = PageParams(limit=limit)
    try:
        while True:
            page = await fetch_page(client[db]["things"], filter, params, **kw)
            pages.append([d["_id"] for d in page.items])
            if page.next is None:
                return pages
            params = await page_params(limit=limit, cursor=page.next)
    finally:
        await client.close()


async def test_pages_cover_every_document_once_in_order(
    things: str, mongo: MongoClient[dict[str, Any]]
) -> None:
    docs = list(mongo[things]["things"].find({"unit": "justice"}))
    pages = await all_pages(things, {"unit": "justice"}, 25)
    assert [len(p) for p in pages] == [25, 25, 25, 5]
    assert [i for p in pages for i in p] == sorted(d["_id"] for d in docs)

    # By a key with ties (many share a day), newest first: still every document once.
    by_day = await all_pages(things, {}, 17, key="due_day", descending=True)
    flat = [i for p in by_day for i in p]
    expected = sorted(
        mongo[things]["things"].find({}), key=lambda d: (d["due_day"], d["_id"]), reverse=True
    )
    assert flat == [d["_id"] for d in expected]

    # A date-time key survives the cursor's round trip.
    by_time = await all_pages(things, {"unit": "finance"}, 7, key="at", projection={"at": 0})
    finance = sorted(
        mongo[things]["things"].find({"unit": "finance"}), key=lambda d: (d["at"], d["_id"])
    )
    assert [i for p in by_time for i in p] == [d["_id"] for d in finance]


async def test_a_cursor_not_given_by_the_api_is_a_400() -> None:
    for bad in ("AAAA", "bm90IGpzb24", "W10", "WzEsMiwzXQ"):
        with pytest.raises(Problem) as caught:
            decode_cursor(bad)
        assert caught.value.status == 400
