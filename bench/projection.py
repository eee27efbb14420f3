"""Projection benchmark: how fast a supervision worker projects events from Kafka into MongoDB.

It positions a fresh consumer group at the end of `supervision.events`, starts a supervision
worker process (`python -m supervision.worker`) in that group with its own database
(`bench_supervision`), waits until a warm-up event reaches the processed-events ledger (the
worker has its partitions), then:

- `burst`: produces `--events` CloudEvents (default 5000) as fast as an idempotent aiokafka
  producer with `acks=all` takes them, and waits until every one is in the ledger;
- `paced` (unless `--paced-seconds 0`): produces `--paced-rate` events/s for `--paced-seconds`,
  a load below capacity, so its latency is the pipeline's own, not queueing behind a backlog.

Records are built exactly as the api builds them (`fazhi.envelope`: structured JSON value,
key = subject, `ce_*` headers). Latency = the ledger's `processed_at` minus the event's `time`
(both stamped on this machine). It runs on the benchmarks' own stack (Kafka 127.0.0.1:19092,
FerretDB :19017, started if needed) unless `--stack local`. It prints one JSON object on stdout
and asserts nothing.

    .local/venv/bin/python bench/projection.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import DeleteGroupsRequest
from common import (
    DB,
    SOURCE,
    TOPIC,
    TYPE,
    UNIT,
    Child,
    CpuWatch,
    add_stack_arguments,
    children,
    drop_databases,
    http_status,
    machine,
    metric_sums,
    peak_rss_mb,
    plan_tasks,
    rss_mb,
    service_env,
    stack_for,
    stack_pids,
    summary_ms,
    synthetic_tasks,
)
from pymongo import AsyncMongoClient

from fazhi.envelope import CloudEvent, kafka_headers, new_event

LEDGER = "processed_events"
TARGETS = {"events_per_s_min": 300.0, "worker_rss_mb_max": 250.0}


def say(message: str) -> None:
    print(f"[bench projection] {message}", file=sys.stderr, flush=True)


def progress(event_id: str, n: int, tasks: Sequence[str]) -> CloudEvent:
    task_id = tasks[n % len(tasks)]
    now = datetime.now().astimezone()
    return new_event(
        type=TYPE,
        source=SOURCE,
        subject=task_id,
        id=event_id,
        data={
            "task_id": task_id,
            "unit": UNIT,
            "progress_pct": n % 101,
            "note": "基准测试：进展顺利，按计划推进",
            "reported_at": now.isoformat(),
        },
    )


async def position_group_at_end(kafka: str, group: str) -> dict[int, int]:
    """Commit the topic's end offsets for `group`, so the worker skips what is already there."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([TOPIC])
    finally:
        await admin.close()
    partitions = [p["partition"] for p in described[0]["partitions"]]
    if described[0]["error_code"] or not partitions:
        raise SystemExit(f"topic {TOPIC} not found: start the stack (scripts/stack.sh start)")
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(TOPIC, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.commit({tp: ends[tp] for tp in tps})
        return {tp.partition: ends[tp] for tp in tps}
    finally:
        await consumer.stop()


async def forget_group(kafka: str, group: str) -> dict[str, Any]:
    """Delete the bench's consumer group and the topics faust made for it (best effort)."""
    done: dict[str, Any] = {"group_deleted": False, "topics_deleted": []}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(f"{group}-")]
        if topics:
            await admin.delete_topics(topics)
            done["topics_deleted"] = topics
        node = await admin.find_coordinator(group)
        response = await admin._send_request(DeleteGroupsRequest([group]), node)
        done["group_deleted"] = all(err == 0 for _, err in response.results)
    except Exception as exc:  # cleanup must not hide the measurement
        done["error"] = repr(exc)
    finally:
        await admin.close()
    return done


async def ledger_count(db: Any, prefix: str) -> int:
    return int(
        await db[LEDGER].count_documents(
            {"source": SOURCE, "id": {"$gte": prefix, "$lt": prefix + "\uffff"}}
        )
    )


async def worker_counters(http: httpx.AsyncClient) -> dict[str, float] | None:
    """Records consumed (every outcome but `retried`) and handler time, from the worker."""
    try:
        response = await http.get("/metrics")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    consumed = 0.0
    for line in response.text.splitlines():
        if (
            line.startswith("supervision_events_consumed_total{")
            and 'outcome="retried"' not in line
        ):
            consumed += float(line.rsplit(" ", 1)[1])
    sums = metric_sums(
        response.text,
        "supervision_consumer_handle_seconds_sum",
        "supervision_consumer_handle_seconds_count",
    )
    return {
        "consumed": consumed,
        "handle_sum": sums["supervision_consumer_handle_seconds_sum"],
        "handle_count": sums["supervision_consumer_handle_seconds_count"],
    }


async def wait_ledger(
    db: Any,
    http: httpx.AsyncClient,
    prefix: str,
    expected: int,
    deadline: float,
    worker: Child,
    baseline: float,
) -> int:
    """Wait until `expected` events of `prefix` are in the ledger.

    Progress is followed on the worker's cheap `/metrics` counter; the ledger itself is counted
    only when the counter says the events may all be there (or every 10 s), because on FerretDB
    v1 (SQLite) a ledger count is a full scan that would compete with the worker being measured.
    """
    count = 0
    last_count = 0.0
    while time.monotonic() < deadline:
        if not worker.alive():
            raise SystemExit(f"the worker exited; see {worker.log_path}")
        counters = await worker_counters(http)
        now = time.monotonic()
        if counters is None or counters["consumed"] - baseline >= expected or now - last_count > 10:
            last_count = now
            count = await ledger_count(db, prefix)
            if count >= expected:
                return count
        await asyncio.sleep(0.25)
    return count


async def ledger_rows(db: Any, prefix: str) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    cursor = db[LEDGER].find(
        {"source": SOURCE, "id": {"$gte": prefix, "$lt": prefix + "\uffff"}},
        {"_id": 0, "id": 1, "processed_at": 1, "outcome": 1},
    )
    async for row in cursor:
        rows[row["id"]] = row
    return rows


async def produce(
    producer: AIOKafkaProducer,
    prefix: str,
    count: int,
    tasks: Sequence[str],
    rate: float | None,
    deadline: float,
) -> dict[str, datetime]:
    """Send `count` events (at `rate`/s if given); returns each id's event time."""
    times: dict[str, datetime] = {}
    futures = []
    began = time.monotonic()
    for n in range(count):
        if rate:
            delay = began + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        if time.monotonic() >= deadline:
            break
        event = progress(f"{prefix}{n:07d}", n, tasks)
        times[event.id] = event.time
        futures.append(
            await producer.send(
                TOPIC,
                value=event.to_bytes(),
                key=event.subject.encode(),
                headers=kafka_headers(event),
            )
        )
    await asyncio.gather(*futures)
    return times


def _rate_by_tenth(first: datetime | None, done: list[datetime]) -> list[float | None]:
    """Projection rate over each tenth of the projected events, in order: a falling series
    means each event costs more as the collections grow."""
    if first is None or len(done) < 10:
        return []
    rates: list[float | None] = []
    step = len(done) / 10
    previous = first
    for tenth in range(10):
        end = done[round((tenth + 1) * step) - 1]
        count = round((tenth + 1) * step) - round(tenth * step)
        span = (end - previous).total_seconds()
        rates.append(round(count / span, 1) if span > 0 else None)
        previous = end
    return rates


async def phase(
    name: str,
    *,
    producer: AIOKafkaProducer,
    db: Any,
    http: httpx.AsyncClient,
    worker: Child,
    prefix: str,
    count: int,
    tasks: Sequence[str],
    rate: float | None,
    seconds: float,
    watch: dict[str, int],
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    say(f"{name}: producing {count} events" + (f" at {rate:g}/s" if rate else ""))
    before = await worker_counters(http)
    cpu = CpuWatch({"worker": worker.pid, **watch, "producer": os.getpid()})
    started = time.monotonic()
    times = await produce(producer, prefix, count, tasks, rate, deadline)
    produced_s = time.monotonic() - started
    seen = await wait_ledger(
        db, http, prefix, len(times), deadline, worker, before["consumed"] if before else 0.0
    )
    cpu_used = cpu.result()
    after = await worker_counters(http)
    rows = await ledger_rows(db, prefix)
    latencies = [
        (rows[i]["processed_at"] - t).total_seconds() for i, t in times.items() if i in rows
    ]
    first = min(times.values()) if times else None
    by_tenth = _rate_by_tenth(first, sorted(row["processed_at"] for row in rows.values()))
    last = max((row["processed_at"] for row in rows.values()), default=None)
    span = (last - first).total_seconds() if first and last else None
    result = {
        "events_produced": len(times),
        "produce_s": round(produced_s, 3),
        "produce_events_per_s": round(len(times) / produced_s, 1) if produced_s else None,
        "events_in_ledger": len(rows),
        "complete": seen >= len(times) and len(rows) >= len(times),
        "first_event_to_last_ledger_s": round(span, 3) if span is not None else None,
        "events_per_s_projected": round(len(rows) / span, 1) if span else None,
        "events_per_s_by_tenth": by_tenth,
        "latency_ms": summary_ms(latencies),
        "outcomes": dict(Counter(str(row.get("outcome")) for row in rows.values())),
        "worker_handler_mean_ms": None,
        "cpu": cpu_used,
    }
    if before and after and after["handle_count"] > before["handle_count"]:
        result["worker_handler_mean_ms"] = round(
            (after["handle_sum"] - before["handle_sum"])
            / (after["handle_count"] - before["handle_count"])
            * 1000,
            2,
        )
    say(f"{name}: {result['events_per_s_projected']} events/s projected")
    return result


async def run(args: argparse.Namespace, worker: Child, run_id: str) -> dict[str, Any]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        args.mongo, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=args.kafka, acks="all", enable_idempotence=True, linger_ms=2
    )
    await producer.start()
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{args.port}", timeout=10)
    samples: list[float] = []

    async def sample_rss() -> None:
        while True:
            samples.append(rss_mb(worker.pid))
            await asyncio.sleep(0.5)

    sampler: asyncio.Task[None] | None = None
    watch = stack_pids(args.state_dir)
    try:
        db = mongo[DB]
        found = await asyncio.to_thread(plan_tasks, args.mongo, args.tasks, 90.0)
        subjects = found or synthetic_tasks(args.tasks)
        say(f"{len(subjects)} task ids: {'from the plan' if found else 'synthetic'}")
        say("warm-up: waiting until the worker projects a first event")
        warm = await phase(
            "warm-up",
            producer=producer,
            db=db,
            http=http,
            worker=worker,
            watch=watch,
            prefix=f"bench-{run_id}-w-",
            count=1,
            tasks=subjects,
            rate=None,
            seconds=120,
        )
        if not warm["complete"]:
            raise SystemExit(f"the worker projected nothing within 120 s; see {worker.log_path}")
        rss = {"idle_after_start": rss_mb(worker.pid)}
        sampler = asyncio.create_task(sample_rss())
        phases = {
            "burst": await phase(
                "burst",
                producer=producer,
                db=db,
                http=http,
                worker=worker,
                watch=watch,
                prefix=f"bench-{run_id}-b-",
                count=args.events,
                tasks=subjects,
                rate=None,
                seconds=args.seconds,
            )
        }
        if not phases["burst"]["complete"]:
            say("the burst did not drain within --seconds: skipping the paced phase")
            phases["paced"] = {"skipped": "the burst did not drain within --seconds"}
        elif args.paced_seconds > 0 and args.paced_rate > 0:
            phases["paced"] = await phase(
                "paced",
                producer=producer,
                db=db,
                http=http,
                worker=worker,
                watch=watch,
                prefix=f"bench-{run_id}-p-",
                count=int(args.paced_rate * args.paced_seconds),
                tasks=subjects,
                rate=args.paced_rate,
                seconds=args.paced_seconds + 60,
            )
        rss["sampled_max"] = max(samples, default=0.0)
        rss["peak_vmhwm"] = peak_rss_mb(worker.pid)
        rss["after"] = rss_mb(worker.pid)
        return {
            "subjects": {
                "kind": "plan tasks owned by the unit" if found else "synthetic",
                "distinct": len(subjects),
            },
            "phases": phases,
            "worker_rss_mb": rss,
        }
    finally:
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        await producer.stop()
        await http.aclose()
        await mongo.close()


async def preload_ledger(mongo: str, rows: int) -> None:
    """Fill the ledger with `rows` old entries, as a worker that has run for a while has."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo, tz_aware=True)
    try:
        ledger = client[DB][LEDGER]
        now = datetime.now().astimezone()
        for start in range(0, rows, 1000):
            await ledger.insert_many(
                [
                    {
                        "_id": f"/units/bench-preload preload-{n:09d}",  # the event's key
                        "source": "/units/bench-preload",
                        "id": f"preload-{n:09d}",
                        "type": TYPE,
                        "topic": TOPIC,
                        "partition": 0,
                        "offset": n,
                        "outcome": "applied",
                        "processed_at": now,
                    }
                    for n in range(start, min(rows, start + 1000))
                ]
            )
    finally:
        await client.close()


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """How the measured numbers compare with the targets (informative, never an assertion)."""
    eps = report["phases"]["burst"]["events_per_s_projected"]
    peak = report["worker_rss_mb"]["peak_vmhwm"]
    return {
        "events_per_s_projected": {
            "measured": eps,
            "target": f">= {TARGETS['events_per_s_min']}",
            "met": eps is not None and eps >= TARGETS["events_per_s_min"],
        },
        "worker_rss_mb": {
            "measured": peak,
            "target": f"< {TARGETS['worker_rss_mb_max']}",
            "met": peak < TARGETS["worker_rss_mb_max"],
        },
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="events in the burst")
    parser.add_argument("--tasks", type=int, default=100, help="most distinct task ids (subjects)")
    parser.add_argument(
        "--seconds", type=float, default=300.0, help="time bound of the burst (produce + drain)"
    )
    parser.add_argument(
        "--paced-rate", type=float, default=100.0, help="events/s of the paced phase"
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="0 skips the paced phase")
    parser.add_argument(
        "--ledger-preload",
        type=int,
        default=0,
        help="ledger rows inserted before the start, as after a long run (default 0)",
    )
    parser.add_argument("--port", type=int, default=19011, help="the worker's /metrics port")
    add_stack_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the bench database and group")
    args = parser.parse_args(argv)
    if args.events < 1 or args.tasks < 1:
        parser.error("--events and --tasks must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    run_id = uuid.uuid4().hex[:8]
    group = f"supervision-worker-bench-{run_id}"
    datadir = Path(tempfile.gettempdir()) / "fazhi-faust" / group
    cleanup: dict[str, Any] = {}
    with stack_for(args) as stack, children() as started:
        args.kafka, args.mongo, args.state_dir = stack["kafka"], stack["mongo"], stack["state_dir"]
        try:
            if http_status(f"http://127.0.0.1:{args.port}/metrics"):
                raise SystemExit(f"port {args.port} is in use: pass --port")
            drop_databases(args.mongo, DB)
            if args.ledger_preload:
                say(f"preloading the ledger with {args.ledger_preload} rows")
                asyncio.run(preload_ledger(args.mongo, args.ledger_preload))
            ends = asyncio.run(position_group_at_end(args.kafka, group))
            say(f"group {group} starts at the end of {TOPIC} ({sum(ends.values())} records before)")
            worker = Child(
                "projection-supervision-worker",
                [sys.executable, "-m", "supervision.worker"],
                service_env(
                    kafka=args.kafka,
                    mongo=args.mongo,
                    worker_group=group,
                    worker_web_port=str(args.port),
                ),
            )
            started.append(worker)
            say(f"started the supervision worker, pid {worker.pid} (log {worker.log_path})")
            report = asyncio.run(run(args, worker, run_id))
        finally:
            for child in started:
                child.stop()
            if not args.keep:
                cleanup = asyncio.run(forget_group(args.kafka, group))
                drop_databases(args.mongo, DB)
                shutil.rmtree(datadir, ignore_errors=True)
    out = {
        "benchmark": "projection",
        "service": "supervision",
        "topic": TOPIC,
        "consumer_group": group,
        "stack": stack,
        "config": {
            "burst_events": args.events,
            "max_distinct_subjects": args.tasks,
            "burst_seconds_bound": args.seconds,
            "paced_rate": args.paced_rate,
            "paced_seconds": args.paced_seconds,
            "ledger_preload_rows": args.ledger_preload,
        },
        **report,
        "targets": targets(report),
        "cleanup": cleanup or None,
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
