"""Replay throughput: `fazhi replay` rebuilding supervision's projections from its log, beside the
raw aiokafka consumer with bulk writes (`bench/raw_consumer.py`'s `project`) on the same store,
the same records, in the same run.

Produces `--events` (100,000) `supervision.task.progress_reported` events as the api publishes
them (the personal `note` sealed under each task's data key, kept in the "live" database as the
worker keeps them) to the benchmarks' Kafka, then

- replays them (`fazhi.bus.replay.replay`, from the moment they began) into a fresh database:
  the worker's processor, handlers, ledger, audit trail and unsealing, nothing published;
- reads the same records the same way (aiokafka, merged by timestamp) and writes them as
  `raw_consumer.project` does (the best case: no validation, no unsealing, no guards, no ledger
  checks, no audit trail) into another one.

    .local/venv/bin/python bench/replay.py [--events 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KAFKA,
    BENCH_MONGO,
    TOPIC,
    bench_stack_up,
    figure,
    kafka_record,
    machine,
    producer,
    progress_event,
    rate,
    say,
    service_env,
)

LIVE = "bench_replay_live"
REBUILT = "bench_replay_rebuilt"
RAW = "bench_replay_raw"
TASKS = 217


async def produce(events: int) -> int:
    """Sealed events of `TASKS` tasks on the supervision topic; returns when it began (ms)."""
    from pymongo import AsyncMongoClient

    from fazhi.contracts.supervision import TaskProgressReported
    from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, Keyring, MasterKey, MongoDataKeys, seal

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO)
    keyring = Keyring(MongoDataKeys(mongo[LIVE]), MasterKey(DEVELOPMENT_MASTER_KEY))
    tasks = [f"RB-T{n}" for n in range(TASKS)]
    keys = await keyring.get((f"tasks:{t}" for t in tasks), create=True)
    await mongo.close()
    sender = producer(BENCH_KAFKA)
    await sender.start()
    began = int(time.time() * 1000)
    try:
        pending = []
        for n in range(events):
            task = tasks[n % TASKS]
            event = progress_event(str(uuid.uuid4()), task, n)
            value, key, headers = kafka_record(
                seal(event, TaskProgressReported, keys[f"tasks:{task}"])
            )
            pending.append(await sender.send(TOPIC, value, key=key, headers=headers))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await sender.stop()
    return began


async def replayed(since_ms: int, batch: int) -> tuple[int, float]:
    from pymongo import AsyncMongoClient

    from fazhi.bus.replay import replay
    from supervision.worker import WORKER

    settings = WORKER.settings()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO, tz_aware=True)
    try:
        done = await replay(
            catalog=WORKER.catalog,
            reactions=WORKER.reactions,
            settings=settings,
            live=mongo[LIVE],
            target=mongo[REBUILT],
            ensure_indexes=WORKER.ensure_indexes,
            batch=batch,
            since_ms=since_ms,
            progress=sys.stderr,
        )
    finally:
        await mongo.close()
    say(done.summary())
    return done.total, done.seconds - done.setup_seconds


async def raw(since_ms: int, batch: int) -> tuple[int, float]:
    """The same records (read as the replay reads them), written as `raw_consumer.project`."""
    from pymongo import AsyncMongoClient
    from raw_consumer import project

    from fazhi.bus.replay import log_records

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO, tz_aware=True)
    started = time.perf_counter()
    count = 0
    try:
        db = mongo[RAW]
        pending: list[Any] = []
        async for record in log_records(BENCH_KAFKA, [TOPIC], since_ms=since_ms):
            pending.append(record)
            if len(pending) >= batch:
                await project(db, pending)
                count += len(pending)
                pending = []
        if pending:
            await project(db, pending)
            count += len(pending)
    finally:
        await mongo.close()
    return count, time.perf_counter() - started


async def run(events: int, batch: int) -> dict[str, Any]:
    from pymongo import AsyncMongoClient

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO)
    for name in (LIVE, REBUILT, RAW):
        await mongo.drop_database(name)
    await mongo.close()
    say(f"replay: producing {events} events")
    since_ms = await produce(events)
    say("replay: fazhi replay")
    replay_count, replay_s = await replayed(since_ms, batch)
    say("replay: the raw consumer")
    raw_count, raw_s = await raw(since_ms, batch)
    replay_rate, raw_rate = rate(replay_count, replay_s), rate(raw_count, raw_s)
    say(f"replay: {replay_rate} events/s; raw consumer with bulk writes {raw_rate} events/s")
    mongo = AsyncMongoClient(BENCH_MONGO)
    for name in (LIVE, REBUILT, RAW):
        await mongo.drop_database(name)
    await mongo.close()
    return {
        "events": events,
        "replayed": replay_count,
        "raw_consumed": raw_count,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": [
            figure(
                "replay throughput",
                replay_rate,
                "events/s",
                reference="raw aiokafka consumer with bulk writes, same records and store",
                reference_value=raw_rate,
            )
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    os.environ.update(service_env(db=LIVE))
    os.environ.setdefault("FAZHI_DEV", "1")
    with bench_stack_up():
        result = asyncio.run(run(args.events, args.batch))
    print(
        json.dumps(
            {"benchmark": "replay", "machine": machine(), **result}, ensure_ascii=False, indent=2
        )
    )


if __name__ == "__main__":
    main()
