"""Ingest benchmark: `POST /v1/events` of the supervision api, each scenario beside a reference
measured in the same run.

- `single` (one structured event per request) against a bare FastAPI echo app (`bench/echo.py`)
  under the same uvicorn flags: what the api does per event beyond HTTP and the framework.
  A second reference: a raw aiokafka producer configured as the api's publisher, awaiting each
  send's acknowledgement from as many concurrent senders as wrk has connections (aiokafka
  batches what is in flight): what the broker's round trip alone allows one event at a time.
  A third: the echo app that also publishes (`echo:create_publishing_app`: reads the JSON, sends
  it as the api's publisher would, awaiting the acknowledgement, and follows the topic as the
  api's live tail does): the least an api that answers 202 only after Kafka acknowledged can do,
  in one process of this uvicorn, so what is left is what the api adds (validation, sealing,
  the key, owners and receipts).
- `batch` (`--batch-size` events per `application/cloudevents-batch+json` request) against a
  raw aiokafka producer configured as the api's publisher (idempotent, `acks=all`) sending the
  same records (values, keys, headers, topic) as fast as it can: what the api adds to the broker.

The load generator is `wrk` with `bench/load.lua` (one thread, `--connections` keep-alive
connections); each load stops after its request budget or `--seconds`, whichever comes first.
The api runs as the `Procfile` runs it (`uvicorn supervision.api:create_app --factory` and the
same flags), with its own databases, the plan's tasks loaded (the owner check finds real task
documents) and the live tail on. Prints one JSON object on stdout; asserts nothing.

    .local/venv/bin/python bench/ingest.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from common import (
    AUTH_DB,
    BENCH_KAFKA,
    BENCH_MONGO,
    DB,
    ROOT,
    TOPIC,
    UNIT,
    Child,
    CpuWatch,
    at_least,
    at_most,
    bench_stack_up,
    both,
    children,
    drop_databases,
    figure,
    kafka_record,
    load_plan,
    machine,
    peak_rss_mb,
    percentile_ms,
    plan_tasks,
    procfile_uvicorn,
    producer,
    progress_event,
    random_letters,
    rate,
    rss_mb,
    say,
    service_env,
    stack_pids,
    wait_http_ok,
)

API_PORT, ECHO_PORT = 19001, 19002


def create_key() -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "fazhi.cli", "--mongo-url", BENCH_MONGO, "--auth-db", AUTH_DB),
            *("keys", "create", "--unit", UNIT, "--role", "department"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def uvicorn(name: str, app: str, flags: list[str], port: int, env: dict[str, str]) -> Child:
    argv = [sys.executable, "-m", "uvicorn", app, *flags, "--host", "127.0.0.1"]
    return Child(name, [*argv, "--port", str(port)], env)


def wrk(
    url: str,
    *,
    per_request: int,
    budget: int,
    seconds: float,
    connections: int,
    key: str,
    subjects: list[str],
    watch: dict[str, int],
) -> dict[str, Any]:
    """One wrk load; events/s counts events answered 202 over the first request to last answer."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    argv += ["-s", str(ROOT / "bench" / "load.lua"), url, "--"]
    argv += [str(per_request), str(budget), random_letters(8), key, ",".join(subjects)]
    cpu = CpuWatch(watch)
    children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=seconds + 60)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    out: dict[str, Any] = json.loads(lines[-1])
    accepted = out["statuses"].get("202", 0) * per_request
    out.update(
        events_per_request=per_request,
        events_accepted=accepted,
        events_per_s=rate(accepted, out["wall_s"]),
        requests_per_s=rate(out["answered"], out["wall_s"]),
        stopped_by="count" if out["answered"] >= budget else "time",
        cpu={
            **cpu.result(),
            "wrk_cpu_s": round(
                used.ru_utime + used.ru_stime - children_cpu.ru_utime - children_cpu.ru_stime, 2
            ),
        },
    )
    return out


def progress_records(count: int, subjects: list[str]) -> list[Any]:
    """`count` progress reports as Kafka records, new ids, about `subjects` in turn."""
    run = random_letters(8)
    return [
        kafka_record(progress_event(f"bench-{run}-{n:07d}", subjects[n % len(subjects)], n))
        for n in range(count)
    ]


async def raw_produce(count: int, seconds: float, subjects: list[str]) -> dict[str, Any]:
    """The batch reference: the same records, sent by one producer as fast as it takes them."""
    records = progress_records(count, subjects)
    client = producer(BENCH_KAFKA)
    await client.start()
    try:
        cpu = CpuWatch({**stack_pids(), "producer": os.getpid()})
        began = time.perf_counter()
        futures = []
        for value, key, headers in records:
            if time.perf_counter() - began > seconds:
                break
            futures.append(await client.send(TOPIC, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - began
        return {
            "events_acknowledged": len(futures),
            "record_bytes_mean": round(sum(len(r[0]) for r in records) / len(records)),
            "wall_s": round(elapsed, 4),
            "events_per_s": rate(len(futures), elapsed),
            "stopped_by": "count" if len(futures) == count else "time",
            "cpu": cpu.result(),
        }
    finally:
        await client.stop()


async def raw_senders(
    count: int, seconds: float, subjects: list[str], senders: int
) -> dict[str, Any]:
    """The single reference: `senders` concurrent senders, each awaiting its send's
    acknowledgement before the next, with the same records."""
    records = progress_records(count, subjects)
    client = producer(BENCH_KAFKA)
    await client.start()
    latencies: list[float] = []
    try:
        cpu = CpuWatch({**stack_pids(), "producer": os.getpid()})
        began = time.perf_counter()
        feed = iter(records)

        async def sender() -> None:
            for value, key, headers in feed:
                if time.perf_counter() - began > seconds:
                    return
                sent = time.perf_counter()
                await client.send_and_wait(TOPIC, value=value, key=key, headers=headers)
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(sender() for _ in range(senders)))
        elapsed = time.perf_counter() - began
        return {
            "senders": senders,
            "events_acknowledged": len(latencies),
            "wall_s": round(elapsed, 4),
            "events_per_s": rate(len(latencies), elapsed),
            "send_ms": {
                "p50": percentile_ms(latencies, 50),
                "p99": percentile_ms(latencies, 99),
            },
            "cpu": cpu.result(),
        }
    finally:
        await client.stop()


def run(args: argparse.Namespace, started: list[Child]) -> dict[str, Any]:
    app, flags = procfile_uvicorn()
    drop_databases(DB, AUTH_DB)
    load_plan()
    subjects = plan_tasks(args.tasks)
    if not subjects:
        raise SystemExit(f"no plan task owned by {UNIT} in {DB}")
    key = create_key()

    def load(url: str, watch: dict[str, int], per_request: int, budget: int) -> dict[str, Any]:
        return wrk(
            url,
            per_request=per_request,
            budget=budget,
            seconds=args.seconds,
            connections=args.connections,
            key=key,
            subjects=subjects,
            watch=watch,
        )

    say(f"echo app: uvicorn echo:create_app {' '.join(flags)} on :{ECHO_PORT}")
    echo = uvicorn("ingest-echo", "echo:create_app", [*flags, "--app-dir", "bench"], ECHO_PORT, {})
    started.append(echo)
    echo_url = f"http://127.0.0.1:{ECHO_PORT}"
    wait_http_ok(echo, f"{echo_url}/healthz")
    load(f"{echo_url}/v1/events", {}, 1, args.warmup)
    echo_single = load(f"{echo_url}/v1/events", {"echo": echo.pid}, 1, args.requests)
    say(f"echo: {echo_single['events_per_s']} requests/s")
    echo_rss = {"after": rss_mb(echo.pid), "peak": peak_rss_mb(echo.pid)}
    echo.stop()

    say(f"publishing echo app: uvicorn echo:create_publishing_app on :{ECHO_PORT}")
    floor = uvicorn(
        "ingest-echo-kafka",
        "echo:create_publishing_app",
        [*flags, "--app-dir", "bench"],
        ECHO_PORT,
        {"BENCH_ECHO_KAFKA": BENCH_KAFKA, "BENCH_ECHO_TOPIC": TOPIC},
    )
    started.append(floor)
    wait_http_ok(floor, f"{echo_url}/healthz")
    load(f"{echo_url}/v1/events", {}, 1, args.warmup)
    echo_kafka = load(
        f"{echo_url}/v1/events", {"echo": floor.pid, **stack_pids()}, 1, args.requests
    )
    say(f"publishing echo: {echo_kafka['events_per_s']} requests/s")
    floor.stop()

    say(f"supervision api: uvicorn {app} {' '.join(flags)} on :{API_PORT}")
    api = uvicorn("ingest-api", app, flags, API_PORT, service_env(live_tail="true"))
    started.append(api)
    api_url = f"http://127.0.0.1:{API_PORT}"
    wait_http_ok(api, f"{api_url}/readyz")
    api_rss = {"idle": rss_mb(api.pid)}
    watch = {"api": api.pid, **stack_pids()}
    load(f"{api_url}/v1/events", {}, 1, args.warmup)
    single = load(f"{api_url}/v1/events", watch, 1, args.requests)
    say(f"api single: {single['events_per_s']} events/s")
    batch_requests = max(1, args.batch_events // args.batch_size)
    batch = load(f"{api_url}/v1/events", watch, args.batch_size, batch_requests)
    say(f"api batch: {batch['events_per_s']} events/s")
    api_rss.update(after=rss_mb(api.pid), peak=peak_rss_mb(api.pid))
    api.stop()

    raw = asyncio.run(raw_produce(args.batch_events, args.seconds, subjects))
    say(f"raw producer: {raw['events_per_s']} events/s")
    senders = asyncio.run(
        raw_senders(args.requests, args.seconds, subjects, senders=args.connections)
    )
    say(
        f"raw producer, {args.connections} senders awaiting each send: "
        f"{senders['events_per_s']} events/s (p50 {senders['send_ms']['p50']} ms)"
    )
    drop_databases(DB, AUTH_DB)
    return {
        "uvicorn": {"app": app, "flags": flags},
        "subjects": len(subjects),
        "single": single,
        "echo_single": echo_single,
        "echo_kafka_single": echo_kafka,
        "batch": batch,
        "raw_producer": raw,
        "raw_senders": senders,
        "api_rss_mb": api_rss,
        "echo_rss_mb": echo_rss,
    }


def figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    single, echo = report["single"]["events_per_s"], report["echo_single"]["events_per_s"]
    batch, raw = report["batch"]["events_per_s"], report["raw_producer"]["events_per_s"]
    api_rss, echo_rss = report["api_rss_mb"]["peak"], report["echo_rss_mb"]["peak"]
    size = report["batch"]["events_per_request"]
    return [
        figure(
            "ingest single: events/s accepted (202)",
            single,
            "events/s",
            reference="bare FastAPI echo app, same uvicorn flags: requests/s",
            reference_value=echo,
            target=">= 0.5x and >= 1000 events/s",
            met=both(at_least(single, 0.5 * echo if echo else 0), at_least(single, 1000)),
        ),
        *_against_senders(report),
        *_against_publishing_echo(report),
        figure(
            f"ingest batch ({size}/request): events/s accepted (202)",
            batch,
            "events/s",
            reference="raw aiokafka producer (idempotent, acks=all), same records: events/s",
            reference_value=raw,
            target=">= 0.25x and >= 10000 events/s",
            met=both(at_least(batch, 0.25 * raw if raw else 0), at_least(batch, 10000)),
        ),
        figure(
            "api RSS, peak",
            api_rss,
            "MB",
            reference="echo app RSS, peak",
            reference_value=echo_rss,
            target="<= 150 MB",
            met=at_most(api_rss, 150),
            lower_is_better=True,
        ),
    ]


def _beside(report: dict[str, Any], part: str, beside: str, reference: str) -> list[dict[str, Any]]:
    """Single ingest beside the reference `part` of the report (none in a result saved before
    that reference existed)."""
    measured = report.get(part)
    if not measured:
        return []
    return [
        figure(
            f"ingest single: events/s accepted (202), beside {beside}",
            report["single"]["events_per_s"],
            "events/s",
            reference=reference,
            reference_value=measured["events_per_s"],
        )
    ]


def _against_senders(report: dict[str, Any]) -> list[dict[str, Any]]:
    senders = report.get("raw_senders") or {}
    return _beside(
        report,
        "raw_senders",
        "the broker alone",
        f"raw aiokafka producer (idempotent, acks=all), {senders.get('senders')} concurrent "
        "senders awaiting each send: events/s",
    )


def _against_publishing_echo(report: dict[str, Any]) -> list[dict[str, Any]]:
    return _beside(
        report,
        "echo_kafka_single",
        "an echo app that publishes",
        "FastAPI echo app that reads the JSON, sends it with the api's producer settings "
        "awaiting the acknowledgement and follows the topic as the live tail does, same "
        "uvicorn flags: requests/s",
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="single: request budget")
    parser.add_argument("--batch-size", type=int, default=100, help="events per batch request")
    parser.add_argument(
        "--batch-events", type=int, default=50000, help="batch and raw producer: event budget"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound of each load")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--warmup", type=int, default=200, help="requests sent first, not counted")
    parser.add_argument("--tasks", type=int, default=100, help="most distinct task ids (subjects)")
    args = parser.parse_args(argv)
    for name in ("requests", "batch_size", "batch_events", "connections", "warmup", "tasks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    with bench_stack_up(), children() as started:
        report = run(args, started)
    out = {
        "benchmark": "ingest",
        "config": {
            "requests_single": args.requests,
            "batch_size": args.batch_size,
            "batch_events": args.batch_events,
            "seconds_bound": args.seconds,
            "connections": args.connections,
            "warmup_requests": args.warmup,
        },
        "figures": figures(report),
        **report,
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
