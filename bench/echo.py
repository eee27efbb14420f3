"""The ingest benchmark's references: bare FastAPI apps that read a POSTed body and answer 202.

They run under the same uvicorn command-line flags as the supervision api (taken from the
`Procfile`), so `POST /v1/events` on the api can be compared with the least any FastAPI app on
this uvicorn does per request:

    uvicorn echo:create_app --factory --app-dir bench --port 19002 <the Procfile's flags>

`create_publishing_app` adds the least any app that answers 202 only once Kafka acknowledged
must do besides: it reads the body as JSON, sends it to the topic (keyed by its `subject`)
with a producer configured as the api's publisher (idempotent, `acks=all`, no linger), answers
once the broker acknowledged it, and follows the topic as the api's live tail does (every
fetch taken whole and counted). No validation, sealing, key check, receipt or metric. The
broker is named by `BENCH_ECHO_KAFKA`, the topic by `BENCH_ECHO_TOPIC`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/v1/events")
    async def events(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"received_bytes": len(body)}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_publishing_app() -> FastAPI:
    bootstrap = os.environ["BENCH_ECHO_KAFKA"]
    topic = os.environ["BENCH_ECHO_TOPIC"]
    state: dict[str, Any] = {"followed": 0}

    async def follow(consumer: AIOKafkaConsumer) -> None:
        while True:
            fetched = await consumer.getmany(timeout_ms=1000)
            state["followed"] += sum(len(records) for records in fetched.values())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0
        )
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest")
        await producer.start()
        await consumer.start()
        state["producer"] = producer
        tail = asyncio.create_task(follow(consumer))
        try:
            yield
        finally:
            tail.cancel()
            await consumer.stop()
            await producer.stop()

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.post("/v1/events")
    async def events(request: Request) -> JSONResponse:
        body = await request.body()
        event = orjson.loads(body)
        placed = await state["producer"].send_and_wait(
            topic, value=body, key=str(event.get("subject", "")).encode()
        )
        return JSONResponse(
            {"accepted": [event.get("id")], "offset": placed.offset}, status_code=202
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, int]:
        return {"followed": state["followed"]}

    return app
