"""Projection benchmark: Kafka -> supervision worker -> store, beside a raw consumer, and how the
cost per event changes with the data already stored.

Each run prepares a database with `size` aggregates (task documents owned by unit `justice`)
and `size` processed-events ledger rows already stored (`insert_many` in batches of 1000, then
the store's statistics refreshed), starts the consumer in a fresh group positioned at the end of
`supervision.events`, and waits until a warm-up event reaches the ledger. Then it pauses the
consumer (SIGSTOP), produces `--events` CloudEvents about random stored aggregates (built and
keyed as the api does, idempotent producer, `acks=all`), resumes it (SIGCONT) and waits until
every event's key is in the ledger, or `--seconds`. So the consumer drains a backlog at full
speed, warm, without the producer competing for the CPU.

- `worker`: the real `python -m supervision.worker` process, at every `--sizes` size;
- `raw`: `bench/raw_consumer.py` (the same writes in bulk, nothing else) at the first size.

Rate = events in the ledger / (last ledger `processed_at` - resume). Prints one JSON object on
stdout; asserts nothing.

    .local/venv/bin/python bench/projection.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import DeleteGroupsRequest
from common import (
    BENCH_KAFKA,
    BENCH_MONGO,
    DB,
    LEDGER,
    ROOT,
    SOURCE,
    TOPIC,
    TYPE,
    UNIT,
    Child,
    CpuWatch,
    analyze,
    at_least,
    at_most,
    bench_stack_up,
    both,
    children,
    drop_databases,
    figure,
    kafka_record,
    machine,
    peak_rss_mb,
    producer,
    progress_event,
    rate,
    rss_mb,
    say,
    service_env,
    stack_pids,
)
from pymongo import AsyncMongoClient

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.store.projection import VERSION
from supervision.store import TASK_HISTORY

RAW_DB = "bench_raw"
WORKER_PORT = 19011
PRELOAD_BATCH = 1000
PENDING = "pending"
ATTEMPTS = 2


class RunFailed(RuntimeError):
    """One run could not be measured (its consumer died or never started)."""


def aggregate_id(n: int) -> str:
    return f"BENCH-A{n:06d}"


def aggregate(n: int, now: datetime) -> dict[str, Any]:
    """A plan-task-like document owned by the bench unit, already in progress, as the worker
    saves one (with its version)."""
    return {
        "_id": aggregate_id(n),
        "kind": "task",
        "measure": 0,
        "measure_seq": 0,
        "title": "基准测试",
        "summary": f"基准测试任务 {n}",
        "lead_units": [UNIT],
        "responsible_units": [],
        "owner_units": [UNIT],
        "due_at": datetime(2025, 12, 31, 23, 59, 59, tzinfo=CHINA_TZ),
        "status": "in_progress",
        "progress_pct": 0,
        "reported_by": UNIT,
        "updated_at": now,
        VERSION: 1,
    }


def ledger_row(n: int, now: datetime) -> dict[str, Any]:
    """A processed-events ledger row of an older event (`_id` = the event's key)."""
    source, event_id = "/units/bench-preload", f"preload-{n:09d}"
    return {
        "_id": f"{source} {event_id}",
        "source": source,
        "id": event_id,
        "type": TYPE,
        "topic": TOPIC,
        "partition": n % 6,
        "offset": n // 6,
        "outcome": "applied",
        "processed_at": now,
    }


async def preload(db: Any, size: int, seconds: float) -> dict[str, Any]:
    """`size` aggregates and ledger rows, inserted in alternating batches so both reach the same
    count if the time bound stops the load early."""
    now = datetime.now(UTC)
    began = time.monotonic()
    stored = 0
    while stored < size and time.monotonic() - began < seconds:
        end = min(size, stored + PRELOAD_BATCH)
        await db["tasks"].insert_many([aggregate(n, now) for n in range(stored, end)])
        await db[LEDGER].insert_many([ledger_row(n, now) for n in range(stored, end)])
        stored = end
    return {
        "aggregates": stored,
        "ledger_rows": stored,
        "seconds": round(time.monotonic() - began, 1),
        "complete": stored == size,
        "analyze": analyze(),
    }


async def prepare_raw(db: Any) -> None:
    """The worker's own start-up on the reference's database: its indexes and the plan."""
    from supervision.worker import WORKER

    if WORKER.ensure_indexes is not None:
        await WORKER.ensure_indexes(db)


async def position_group_at_end(group: str) -> None:
    """Commit the topic's end offsets for `group`, so its consumer skips what is already there."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BENCH_KAFKA)
    await admin.start()
    try:
        described = (await admin.describe_topics([TOPIC]))[0]
    finally:
        await admin.close()
    if described["error_code"] or not described["partitions"]:
        raise SystemExit(f"topic {TOPIC} not found on the bench stack")
    tps = [TopicPartition(TOPIC, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BENCH_KAFKA, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.commit({tp: ends[tp] for tp in tps})
    finally:
        await consumer.stop()


async def forget_group(group: str) -> dict[str, Any]:
    """Delete the group and the topics faust made for it (best effort)."""
    done: dict[str, Any] = {"group_deleted": False, "topics_deleted": 0}
    admin = AIOKafkaAdminClient(bootstrap_servers=BENCH_KAFKA)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"{group}-")]
        if topics:
            await admin.delete_topics(topics)
            done["topics_deleted"] = len(topics)
        node = await admin.find_coordinator(group)
        response = await admin._send_request(DeleteGroupsRequest([group]), node)
        done["group_deleted"] = all(err == 0 for _, err in response.results)
    except Exception as exc:  # cleanup must not hide the measurement
        done["error"] = repr(exc)
    finally:
        await admin.close()
    return done


async def settled(db: Any, key: str) -> bool:
    """Whether the event is in its task's timeline: both consumers write a batch's timeline
    rows (`_id` = the event's key) in the same step as its task documents."""
    return await db[TASK_HISTORY].find_one({"_id": key}, {"_id": 1}) is not None


async def wait_for_keys(db: Any, child: Child, keys: set[str], deadline: float) -> bool:
    """Wait until every key is settled in the ledger. One `_id` lookup at a time, so the polling
    costs the store little next to the consumer being measured."""
    pending = set(keys)
    while pending:
        if not child.alive():
            raise RunFailed(f"{child.name} exited with status {child.proc.returncode}")
        key = next(iter(pending))
        if await settled(db, key):
            pending.discard(key)
            continue
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def produce(client: Any, records: list[Any]) -> set[str]:
    """Send every record and wait for the acks; returns the key of the last event of each
    partition (when those are in the ledger, all are: a partition is projected in order)."""
    futures = [
        (event_key, await client.send(TOPIC, value=value, key=key, headers=headers))
        for event_key, (value, key, headers) in records
    ]
    last: dict[int, tuple[int, str]] = {}
    for event_key, future in futures:
        meta = await future
        if meta.offset >= last.get(meta.partition, (-1, ""))[0]:
            last[meta.partition] = (meta.offset, event_key)
    return {event_key for _, event_key in last.values()}


def start_consumer(kind: str, group: str, db: str) -> Child:
    if kind == "worker":
        env = service_env(db=db, worker_group=group, worker_web_port=str(WORKER_PORT))
        return Child("projection-worker", [sys.executable, "-m", "supervision.worker"], env)
    argv = [sys.executable, str(ROOT / "bench" / "raw_consumer.py"), "--group", group]
    return Child("projection-raw", [*argv, "--db", db], {})


async def one_run(
    kind: str, size: int, args: argparse.Namespace, started: list[Child]
) -> dict[str, Any]:
    name = DB if kind == "worker" else RAW_DB
    run_id = uuid.uuid4().hex[:8]
    group = f"bench-{kind}-{run_id}"
    prefix = f"bench-{run_id}-"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        BENCH_MONGO, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    client = producer(BENCH_KAFKA)
    child: Child | None = None
    try:
        db = mongo[name]
        await mongo.drop_database(name)
        say(f"{kind} at {size}: preloading {size} aggregates and ledger rows")
        stored = await preload(db, size, args.preload_seconds)
        if kind == "raw":
            await prepare_raw(db)
        await position_group_at_end(group)
        await client.start()
        child = start_consumer(kind, group, name)
        started.append(child)

        warm = progress_event(f"{prefix}warm", aggregate_id(0), 0)
        await produce(client, [(warm.key, kafka_record(warm))])
        if not await wait_for_keys(db, child, {warm.key}, time.monotonic() + 180):
            raise RunFailed(f"{child.name} projected nothing within 180 s")
        rss_idle = rss_mb(child.pid)

        rng = random.Random(size)
        events = [
            progress_event(f"{prefix}{n:07d}", aggregate_id(rng.randrange(stored["aggregates"])), n)
            for n in range(args.events)
        ]
        records = [(event.key, kafka_record(event)) for event in events]
        child.signal(signal.SIGSTOP)
        try:
            last_keys = await produce(client, records)
        finally:
            resumed = datetime.now(UTC)
            cpu = CpuWatch({kind: child.pid, **stack_pids()})
            child.signal(signal.SIGCONT)
        say(f"{kind} at {size}: {len(records)} events produced, draining")
        complete = await wait_for_keys(db, child, last_keys, time.monotonic() + args.seconds)
        finished = datetime.now(UTC)
        used = cpu.result()
        rows = [
            row
            async for row in db[LEDGER].find(
                {"source": SOURCE, "id": {"$gt": prefix, "$lt": f"{prefix}w"}},
                {"_id": 0, "processed_at": 1, "outcome": 1},
            )
            if row.get("outcome") != PENDING
        ]
        store_cpu = sum(
            seconds
            for name, seconds in used.items()
            if name.endswith("_cpu_s") and name not in (f"{kind}_cpu_s", "kafka_cpu_s")
        )
        # Until the last timeline row was seen (polled every 0.2 s, for both consumers alike).
        span = (finished - resumed).total_seconds() if complete else None
        events_per_s = rate(len(rows), span)
        result = {
            "consumer": kind,
            "stored": stored,
            "events_produced": len(records),
            "events_in_ledger": len(rows),
            "complete": complete and len(rows) == len(records),
            "drain_s": round(span, 3) if span is not None else None,
            "events_per_s": events_per_s,
            "wall_ms_per_event": round(1000 * span / len(rows), 3) if rows and span else None,
            "cpu_ms_per_event": (
                round(1000 * used[f"{kind}_cpu_s"] / len(rows), 3) if rows else None
            ),
            "store_cpu_ms_per_event": round(1000 * store_cpu / len(rows), 3) if rows else None,
            "outcomes": dict(Counter(str(row.get("outcome")) for row in rows)),
            "cpu": used,
            "rss_mb": {
                "idle": rss_idle,
                "after": rss_mb(child.pid),
                "peak": peak_rss_mb(child.pid),
            },
        }
        say(f"{kind} at {size}: {events_per_s} events/s")
        return result
    finally:
        if child is not None:
            child.stop()
        await client.stop()
        await mongo.drop_database(name)
        await mongo.close()
        await forget_group(group)
        shutil.rmtree(Path(tempfile.gettempdir()) / "fazhi-faust" / group, ignore_errors=True)


def run(args: argparse.Namespace, started: list[Child]) -> dict[str, Any]:
    drop_databases(DB, RAW_DB)
    results: dict[str, Any] = {"raw": {}, "worker": {}}
    plan = [("raw", args.sizes[0])] + [("worker", size) for size in args.sizes]
    for kind, size in plan:
        errors: list[str] = []
        while len(errors) < ATTEMPTS:
            try:
                result = asyncio.run(one_run(kind, size, args, started))
            except RunFailed as exc:
                say(f"{kind} at {size}: {exc}")
                errors.append(str(exc))
            else:
                results[kind][str(size)] = {**result, "failed_attempts": errors}
                break
        else:
            results[kind][str(size)] = {"consumer": kind, "error": "; ".join(errors)}
    return results


def figures(report: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    base = str(sizes[0])
    worker, raw = report["worker"], report["raw"]
    first = worker.get(base, {})
    eps, raw_eps = first.get("events_per_s"), raw.get(base, {}).get("events_per_s")
    out = [
        figure(
            f"projection: events/s, {sizes[0]} aggregates stored",
            eps,
            "events/s",
            reference="raw aiokafka consumer, the same writes in bulk: events/s",
            reference_value=raw_eps,
            target=">= 0.5x and >= 1000 events/s",
            met=both(at_least(eps, 0.5 * raw_eps if raw_eps else 0), at_least(eps, 1000)),
        )
    ]
    for size in sizes[1:]:
        here = worker.get(str(size), {})
        largest = size == sizes[-1]
        for key, what in (("wall_ms_per_event", "wall"), ("cpu_ms_per_event", "worker CPU")):
            value, reference = here.get(key), first.get(key)
            out.append(
                figure(
                    f"projection cost, ms {what}/event, {size} aggregates and ledger rows",
                    value,
                    "ms/event",
                    reference=f"the same at {sizes[0]}",
                    reference_value=reference,
                    target="<= 1.3x" if largest and what == "wall" else None,
                    met=(
                        at_most(value, 1.3 * reference)
                        if largest and what == "wall" and value and reference
                        else None
                    ),
                    lower_is_better=True,
                )
            )
    peaks = [r["rss_mb"]["peak"] for r in worker.values() if "rss_mb" in r]
    raw_peak = raw.get(base, {}).get("rss_mb", {}).get("peak")
    peak = max(peaks) if peaks else None
    out.append(
        figure(
            "worker RSS, peak",
            peak,
            "MB",
            reference="raw consumer RSS, peak",
            reference_value=raw_peak,
            target="<= 200 MB",
            met=at_most(peak, 200),
            lower_is_better=True,
        )
    )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10000, help="events of each run")
    parser.add_argument("--seconds", type=float, default=60.0, help="drain time bound of a run")
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1000, 10000, 100000],
        help="aggregates (and ledger rows) stored before a run, comma-separated; the raw "
        "consumer runs at the first",
    )
    parser.add_argument(
        "--preload-seconds", type=float, default=180.0, help="time bound of one preload"
    )
    args = parser.parse_args(argv)
    if args.events < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error("--events and every size must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    with bench_stack_up(), children() as started:
        report = run(args, started)
    out = {
        "benchmark": "projection",
        "config": {
            "events_per_run": args.events,
            "drain_seconds_bound": args.seconds,
            "sizes": args.sizes,
            "preload_seconds_bound": args.preload_seconds,
        },
        "figures": figures(report, args.sizes),
        **report,
        "machine": {**facts, "loadavg_1m_at_end": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[bench] interrupted: stopped what it started", file=sys.stderr)
        sys.exit(130)
