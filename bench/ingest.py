"""Ingest benchmark: POST `supervision.task.progress_reported` events to a supervision api.

By default it starts its own api process (`uvicorn supervision.api:create_app --factory`) on
127.0.0.1:19001 with its own databases (`bench_supervision`, auth db `bench_auth`) and the live
tail on (the production configuration), creates a department key with the `fazhi keys create`
CLI, and runs two scenarios with 16 concurrent clients:

- `single`: one structured event per request (`application/cloudevents+json`);
- `batch`: batches of 50 events per request (`application/cloudevents-batch+json`).

Each scenario stops after `--events` events or `--seconds` seconds, whichever comes first.
It runs on the benchmarks' own stack (Kafka 127.0.0.1:19092, FerretDB :19017, started if
needed) unless `--stack local`. It prints one JSON object on stdout (progress goes to stderr)
and asserts nothing.

    .local/venv/bin/python bench/ingest.py            # start an api, run, stop it, drop its dbs
    .local/venv/bin/python bench/ingest.py --stack local --allow-shared \
        --url http://127.0.0.1:8001 --key "$KEY" --pid 1234
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from common import (
    AUTH_DB,
    DB,
    ROOT,
    SOURCE,
    TYPE,
    UNIT,
    Child,
    CpuWatch,
    add_stack_arguments,
    children,
    drop_databases,
    http_status,
    load_plan,
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
    wait_until,
)

from fazhi.envelope import CHINA_TZ

CST = CHINA_TZ
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
TARGETS = {
    "single_p95_ms_max": 50.0,
    "single_events_per_s_min": 500.0,
    "batch_events_per_s_min": 3000.0,
    "api_rss_mb_max": 200.0,
}


def say(message: str) -> None:
    print(f"[bench ingest] {message}", file=sys.stderr, flush=True)


def progress_event(run: str, n: int, tasks: Sequence[str]) -> dict[str, Any]:
    task_id = tasks[n % len(tasks)]
    now = datetime.now(CST).isoformat()
    return {
        "specversion": "1.0",
        "id": f"bench-{run}-{n:07d}",
        "source": SOURCE,
        "type": TYPE,
        "subject": task_id,
        "time": now,
        "datacontenttype": "application/json",
        "data": {
            "task_id": task_id,
            "unit": UNIT,
            "progress_pct": n % 101,
            "note": "基准测试：进展顺利，按计划推进",
            "reported_at": now,
        },
    }


def bodies(
    run: str, events: int, batch_size: int, tasks: Sequence[str]
) -> list[tuple[bytes, str, int]]:
    """Pre-serialised request bodies (body, content type, events in it)."""
    out: list[tuple[bytes, str, int]] = []
    if batch_size <= 1:
        for n in range(events):
            body = json.dumps(progress_event(run, n, tasks), ensure_ascii=False).encode()
            out.append((body, STRUCTURED, 1))
        return out
    for start in range(0, events, batch_size):
        batch = [
            progress_event(run, n, tasks) for n in range(start, min(events, start + batch_size))
        ]
        out.append((json.dumps(batch, ensure_ascii=False).encode(), BATCH, len(batch)))
    return out


async def server_ingest(client: httpx.AsyncClient) -> tuple[float, float] | None:
    """(sum, count) of the api's own `supervision_ingest_seconds` (request to broker ack)."""
    try:
        response = await client.get("/metrics")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    sums = metric_sums(
        response.text, "supervision_ingest_seconds_sum", "supervision_ingest_seconds_count"
    )
    return sums["supervision_ingest_seconds_sum"], sums["supervision_ingest_seconds_count"]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    events_sent: int = 0
    events_accepted: int = 0


async def scenario(
    client: httpx.AsyncClient,
    requests: list[tuple[bytes, str, int]],
    *,
    concurrency: int,
    seconds: float,
    pids: dict[str, int],
) -> dict[str, Any]:
    result = Result()
    cursor = iter(requests)
    deadline = time.monotonic() + seconds
    stopped_by_time = False

    async def client_loop() -> None:
        nonlocal stopped_by_time
        for body, content_type, count in cursor:
            if time.monotonic() >= deadline:
                stopped_by_time = True
                return
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/events", content=body, headers={"content-type": content_type}
                )
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
                status = 0
            else:
                status = response.status_code
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.events_sent += count
            if status == 202:
                result.events_accepted += count
            elif status:
                result.errors[str(status)] += 1

    server_before = await server_ingest(client)
    cpu = CpuWatch(pids)
    began = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu_used = cpu.result()
    server_after = await server_ingest(client)
    server_mean_ms = None
    if server_before and server_after and server_after[1] > server_before[1]:
        server_mean_ms = round(
            (server_after[0] - server_before[0]) / (server_after[1] - server_before[1]) * 1000, 1
        )
    return {
        "requests": result.requests,
        "events_per_request": requests[0][2] if requests else 0,
        "events_sent": result.events_sent,
        "events_accepted": result.events_accepted,
        "duration_s": round(elapsed, 3),
        "events_per_s": round(result.events_accepted / elapsed, 1) if elapsed else None,
        "requests_per_s": round(result.requests / elapsed, 1) if elapsed else None,
        "latency_ms": summary_ms(result.latencies),
        "server_ingest_mean_ms": server_mean_ms,
        "errors": dict(result.errors),
        "stopped_by": "time" if stopped_by_time else "count",
        "cpu": cpu_used,
    }


def create_key(mongo: str, auth_db: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fazhi.cli",
            "--mongo-url",
            mongo,
            "--auth-db",
            auth_db,
            "keys",
            "create",
            "--unit",
            UNIT,
            "--role",
            "department",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


async def run_load(
    args: argparse.Namespace, url: str, key: str, pid: int | None, subjects: Sequence[str]
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    rss: dict[str, float | None] = {"before": rss_mb(pid) if pid else None}
    pids = {
        **({"api": pid} if pid else {}),
        **stack_pids(args.state_dir),
        "load_generator": os.getpid(),
    }
    async with httpx.AsyncClient(
        base_url=url,
        headers={"authorization": f"Bearer {key}"},
        limits=limits,
        timeout=args.request_timeout,
    ) as client:
        if args.warmup:
            say(f"warm-up: {args.warmup} single events")
            await scenario(
                client,
                bodies(f"{run}w", args.warmup, 1, subjects),
                concurrency=args.concurrency,
                seconds=args.seconds,
                pids={},
            )
        results: dict[str, Any] = {}
        for name in args.scenarios:
            size = 1 if name == "single" else args.batch_size
            requests = bodies(f"{run}{name[0]}", args.events, size, subjects)
            say(f"{name}: {args.events} events, {size}/request, {args.concurrency} clients")
            results[name] = await scenario(
                client, requests, concurrency=args.concurrency, seconds=args.seconds, pids=pids
            )
            say(f"{name}: {results[name]['events_per_s']} events/s")
    if pid:
        rss["after"] = rss_mb(pid)
        rss["peak"] = peak_rss_mb(pid)
    return {"run": run, "scenarios": results, "api_rss_mb": rss}


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """How the measured numbers compare with the targets (informative, never an assertion)."""
    scenarios = report["scenarios"]
    checks: dict[str, Any] = {}
    if "single" in scenarios:
        p95 = scenarios["single"]["latency_ms"]["p95"]
        eps = scenarios["single"]["events_per_s"]
        checks["single_p95_ms"] = {
            "measured": p95,
            "target": f"< {TARGETS['single_p95_ms_max']}",
            "met": p95 is not None and p95 < TARGETS["single_p95_ms_max"],
        }
        checks["single_events_per_s"] = {
            "measured": eps,
            "target": f">= {TARGETS['single_events_per_s_min']}",
            "met": eps is not None and eps >= TARGETS["single_events_per_s_min"],
        }
    if "batch" in scenarios:
        eps = scenarios["batch"]["events_per_s"]
        checks["batch_events_per_s"] = {
            "measured": eps,
            "target": f">= {TARGETS['batch_events_per_s_min']}",
            "met": eps is not None and eps >= TARGETS["batch_events_per_s_min"],
        }
    peak = report["api_rss_mb"].get("peak")
    if peak is not None:
        checks["api_rss_mb"] = {
            "measured": peak,
            "target": f"< {TARGETS['api_rss_mb_max']}",
            "met": peak < TARGETS["api_rss_mb_max"],
        }
    return checks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="use this running api instead of starting one (127.0.0.1)")
    parser.add_argument("--key", help="department key of unit 'justice' (default: create one)")
    parser.add_argument("--pid", type=int, help="pid of the --url api, to report its RSS")
    parser.add_argument("--port", type=int, default=19001, help="port of the api it starts")
    parser.add_argument("--events", type=int, default=2000, help="events per scenario")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound per scenario")
    parser.add_argument("--warmup", type=int, default=50, help="single events sent, not counted")
    parser.add_argument("--tasks", type=int, default=100, help="most distinct task ids (subjects)")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument(
        "--scenarios",
        type=lambda s: [x for x in s.split(",") if x],
        default=["single", "batch"],
        help="comma-separated: single,batch",
    )
    parser.add_argument(
        "--no-live-tail",
        action="store_true",
        help="start the api with SUPERVISION_LIVE_TAIL=false (not the production setting; "
        "only to see what the tail costs)",
    )
    add_stack_arguments(parser)
    parser.add_argument("--auth-db", default=AUTH_DB, help="auth db for the key it creates")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - {"single", "batch"}
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.url and urlsplit(args.url).hostname not in {"127.0.0.1", "localhost"}:
        parser.error("the load generator only talks to 127.0.0.1")
    if args.url and not args.key:
        parser.error("--url needs --key: a department key of unit 'justice' known to that api")
    for name in ("events", "concurrency", "batch_size", "tasks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    own_api = args.url is None
    url = args.url or f"http://127.0.0.1:{args.port}"
    pid = args.pid
    with stack_for(args, start=own_api) as stack, children() as started:
        args.kafka, args.mongo, args.state_dir = stack["kafka"], stack["mongo"], stack["state_dir"]
        try:
            if own_api:
                if http_status(f"{url}/healthz"):
                    raise SystemExit(f"port {args.port} is in use: pass --port or --url")
                drop_databases(args.mongo, DB, args.auth_db)
                load_plan(args.mongo)
                api = Child(
                    "ingest-supervision-api",
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "supervision.api:create_app",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(args.port),
                        "--no-access-log",
                    ],
                    service_env(
                        kafka=args.kafka,
                        mongo=args.mongo,
                        auth_db=args.auth_db,
                        live_tail="false" if args.no_live_tail else "true",
                    ),
                )
                started.append(api)
                pid = api.pid
                say(f"starting the supervision api on {url} (log {api.log_path})")

                def ready(child: Child = api) -> bool:
                    if not child.alive():
                        raise SystemExit(f"the api exited early; see {child.log_path}")
                    return http_status(f"{url}/readyz") == 200

                wait_until(ready, timeout=90, what="the api's /readyz")
            key = args.key or create_key(args.mongo, args.auth_db)
            subjects = plan_tasks(args.mongo, args.tasks, timeout=5) if own_api else []
            subjects_kind = "plan tasks owned by the unit" if subjects else "synthetic"
            subjects = subjects or synthetic_tasks(args.tasks)
            report = asyncio.run(run_load(args, url, key, pid, subjects))
        finally:
            if own_api and not args.keep:
                for child in started:
                    child.stop()
                drop_databases(args.mongo, DB, args.auth_db)
    out = {
        "benchmark": "ingest",
        "service": "supervision",
        "url": url,
        "api_started_by_bench": own_api,
        "live_tail": (not args.no_live_tail) if own_api else None,
        "stack": stack,
        "config": {
            "events_per_scenario": args.events,
            "batch_size": args.batch_size,
            "concurrency": args.concurrency,
            "seconds_bound_per_scenario": args.seconds,
            "warmup_events": args.warmup,
            "distinct_subjects": len(subjects),
            "subjects": subjects_kind,
        },
        **report,
        "targets": targets(report),
        "machine": {**facts, "loadavg_1m_at_end": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[bench] interrupted: stopped what it started", file=sys.stderr)
        sys.exit(130)
