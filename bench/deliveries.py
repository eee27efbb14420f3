"""Deliveries benchmark: the deliveries worker (`python -m supervision.deliveries`) on the
benchmarks' stack, with a receiver of its own (a bare uvicorn app counting what arrives).

`latency`: `--events` notices for one unit (`supervision.item.opened`, produced to
`supervision.events` as the worker derives them, acks=all), `--interval` seconds apart, one
subscription; per notice, the time from just before its produce to its arrival at the receiver,
p50 and p99, beside Kafka's own end-to-end latency on the same broker in the same run
(`org.apache.kafka.tools.EndToEndLatency`, acks=all, records of the notice's size).

`throughput`: `--burst` notices for one unit with `--subscribers` subscriptions (so
burst × subscribers deliveries), produced at once; deliveries/s from the first produce to the
last arrival, beside a raw httpx client posting the same bodies (signed the same way) to the
same receiver with the worker's concurrency.

    .local/venv/bin/python bench/deliveries.py
    .local/venv/bin/python bench/deliveries.py --events 50 --burst 40 --subscribers 50

Prints one JSON object on stdout (progress on stderr); asserts nothing. The receiver does not
verify signatures (a unit's system would; that cost is the receiver's, not the platform's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from common import (
    BENCH_KAFKA,
    BENCH_MONGO,
    ROOT,
    Child,
    at_least,
    at_most,
    bench_stack_up,
    children,
    drop_databases,
    figure,
    machine,
    percentile_ms,
    procfile_uvicorn,
    producer,
    random_letters,
    rate,
    say,
    service_env,
    wait_http_ok,
    wait_until,
)
from triggers import kafka_tools_classpath

from fazhi.contracts import supervision as su
from fazhi.contracts import type_of
from fazhi.contracts.envelope import CHINA_TZ, kafka_headers, new_event
from supervision.deliveries import signing

API_PORT = 19001
DELIVERIES_PORT = 19021
RECEIVER_PORT = 19051
DB = "bench_deliveries"
AUTH_DB = "bench_auth_deliveries"
UNIT = "justice"
TOPIC = "supervision.events"
CONCURRENCY = 64


def env() -> dict[str, str]:
    return service_env(
        db=DB,
        auth_db=AUTH_DB,
        webhook_allow_private="true",
        deliveries_web_port=str(DELIVERIES_PORT),
        deliveries_group=f"bench-deliveries-{uuid.uuid4().hex[:6]}",
        delivery_concurrency=str(CONCURRENCY),
        retry_scan_s="1",
        subscription_cache_s="1",
        live_tail="false",
    )


def create_key(role: str) -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "fazhi.cli", "--mongo-url", BENCH_MONGO, "--auth-db", AUTH_DB),
            *("keys", "create", "--unit", UNIT, "--role", role),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def notice(n: int) -> Any:
    now = datetime.now(CHINA_TZ)
    item_id = f"bench-{random_letters(12)}"
    return new_event(
        type=type_of(su.ItemOpened),
        source=f"/units/{UNIT}",
        subject=item_id,
        data={
            "item_id": item_id,
            "kind": "inspection_finding",
            "unit": UNIT,
            "level": "blue",
            "escalation": "supervise",
            "title": f"基准测试督办事项{n}",
            "source_event_id": f"bench-{n}",
            "source_type": type_of(su.FindingRecorded),
            "triggered_at": now.isoformat(),
        },
        time=now,
    )


async def subscribe(key: str, count: int) -> list[dict[str, Any]]:
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{API_PORT}", headers=headers) as http:
        found = []
        for n in range(count):
            response = await http.post(
                "/v1/subscriptions",
                json={"url": f"http://127.0.0.1:{RECEIVER_PORT}/r/{n}", "kinds": ["items"]},
            )
            response.raise_for_status()
            found.append(response.json())
        return found


async def unsubscribe(key: str, subs: list[dict[str, Any]]) -> None:
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{API_PORT}", headers=headers) as http:
        for sub in subs:
            await http.delete(f"/v1/subscriptions/{sub['subscription_id']}")


async def arrivals(clear: bool = False) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{RECEIVER_PORT}") as http:
        got: dict[str, list[float]] = (await http.get("/stats")).json()
        if clear:
            await http.post("/reset")
        return got


async def latency(args: argparse.Namespace, key: str) -> dict[str, Any]:
    subs = await subscribe(key, 1)
    await asyncio.sleep(2)  # the worker's subscription cache
    sent: dict[str, float] = {}
    kafka = producer(BENCH_KAFKA)
    await kafka.start()
    try:
        for n in range(args.warmup + args.events):
            event = notice(n)
            began = time.time()
            await kafka.send_and_wait(
                TOPIC, event.to_bytes(), key=event.subject.encode(), headers=kafka_headers(event)
            )
            if n >= args.warmup:
                sent[event.id] = began
            await asyncio.sleep(args.interval)
    finally:
        await kafka.stop()
    for _ in range(300):
        got = await arrivals()
        if all(i in got for i in sent):
            break
        await asyncio.sleep(0.1)
    got = await arrivals(clear=True)
    await unsubscribe(key, subs)
    seconds = [got[i][0] - t for i, t in sent.items() if i in got]
    return {
        "notices": len(sent),
        "delivered": len(seconds),
        "ms": {
            "p50": percentile_ms(seconds, 50),
            "p99": percentile_ms(seconds, 99),
            "max": percentile_ms(seconds, 100),
        },
    }


async def throughput(args: argparse.Namespace, key: str) -> dict[str, Any]:
    subs = await subscribe(key, args.subscribers)
    await asyncio.sleep(2)
    events = [notice(n) for n in range(args.burst)]
    kafka = producer(BENCH_KAFKA)
    await kafka.start()
    began = time.time()
    try:
        futures = [
            await kafka.send(TOPIC, e.to_bytes(), key=e.subject.encode(), headers=kafka_headers(e))
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await kafka.stop()
    wanted = args.burst * args.subscribers
    deadline = time.time() + 300
    while time.time() < deadline:
        got = await arrivals()
        if sum(len(v) for v in got.values()) >= wanted:
            break
        await asyncio.sleep(0.2)
    got = await arrivals(clear=True)
    await unsubscribe(key, subs)
    received = sum(len(v) for v in got.values())
    last = max((t for v in got.values() for t in v), default=None)
    worker = {
        "deliveries": received,
        "expected": wanted,
        "seconds": round(last - began, 3) if last else None,
        "per_s": rate(received, last - began) if last else None,
    }
    reference = await raw_httpx(events, subs)
    return {"worker": worker, "raw_httpx": reference}


async def raw_httpx(events: list[Any], subs: list[dict[str, Any]]) -> dict[str, Any]:
    """The same bodies, signed the same way, POSTed by one httpx client, CONCURRENCY at once."""
    bodies = [
        json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")).encode() for e in events
    ]
    jobs = [(n, body, sub["secret"]) for body in bodies for n, sub in enumerate(subs)]
    slots = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:

        async def post(n: int, body: bytes, secret: str) -> int:
            async with slots:
                msg_id = "msg_" + uuid.uuid4().hex
                headers = {
                    "content-type": "application/cloudevents+json; charset=utf-8",
                    **signing.headers(msg_id, datetime.now(UTC), body, [secret]),
                }
                url = f"http://127.0.0.1:{RECEIVER_PORT}/r/{n}"
                return (await http.post(url, content=body, headers=headers)).status_code

        began = time.perf_counter()
        statuses = await asyncio.gather(*(post(*job) for job in jobs))
        seconds = time.perf_counter() - began
    await arrivals(clear=True)
    ok = sum(1 for s in statuses if s == 200)
    return {"posts": ok, "seconds": round(seconds, 3), "per_s": rate(ok, seconds)}


def kafka_latency(args: argparse.Namespace) -> dict[str, Any]:
    size = len(notice(0).to_bytes())
    topic = f"bench-e2e-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            *("java", "-Xmx256m", "-cp", kafka_tools_classpath()),
            "org.apache.kafka.tools.EndToEndLatency",
            *("--bootstrap-server", BENCH_KAFKA, "--topic", topic),
            *("--num-records", str(args.kafka_records), "--producer-acks", "all"),
            *("--record-size", str(size)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    found = re.search(r"Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)", done.stdout)
    if done.returncode != 0 or found is None:
        say(f"EndToEndLatency failed ({done.returncode}): {done.stderr[-500:]}")
        return {"p50": None, "p99": None, "records": 0}
    return {
        "p50": float(found[1]),
        "p99": float(found[2]),
        "p999": float(found[3]),
        "records": args.kafka_records,
        "record_bytes": size,
    }


def figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    kafka = report["kafka_end_to_end_ms"]
    lat = report["latency"]["ms"]
    worker, raw = report["throughput"]["worker"], report["throughput"]["raw_httpx"]
    return [
        figure(
            "delivery: cause event → receiver, p50",
            lat["p50"],
            "ms",
            reference="Kafka end-to-end p50 (EndToEndLatency, acks=all)",
            reference_value=kafka["p50"],
            target="<= 1000 ms",
            met=at_most(lat["p50"], 1000),
            lower_is_better=True,
        ),
        figure(
            "delivery: cause event → receiver, p99",
            lat["p99"],
            "ms",
            reference="Kafka end-to-end p99 (EndToEndLatency, acks=all)",
            reference_value=kafka["p99"],
            target="<= 2000 ms",
            met=at_most(lat["p99"], 2000),
            lower_is_better=True,
        ),
        figure(
            f"deliveries/s to {report['config']['subscribers']} subscribers",
            worker["per_s"],
            "deliveries/s",
            reference="a raw httpx client POSTing the same signed bodies",
            reference_value=raw["per_s"],
            target=">= 0.3x the raw client",
            met=at_least(worker["per_s"], 0.3 * (raw["per_s"] or 0)) if raw["per_s"] else None,
        ),
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200, help="notices timed one by one")
    parser.add_argument("--warmup", type=int, default=10, help="notices sent first, not timed")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between them")
    parser.add_argument("--burst", type=int, default=200, help="notices of the throughput run")
    parser.add_argument("--subscribers", type=int, default=50, help="subscriptions of the unit")
    parser.add_argument("--kafka-records", type=int, default=1000, help="EndToEndLatency records")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts: dict[str, Any] = machine()
    with bench_stack_up(), children() as started:
        drop_databases(DB, AUTH_DB)
        app, flags = procfile_uvicorn("supervision_api")
        settings = env()
        api = Child(
            "deliveries-api",
            [
                *(sys.executable, "-m", "uvicorn", app, *flags),
                *("--host", "127.0.0.1", "--port", str(API_PORT)),
            ],
            settings,
        )
        started.append(api)
        receiver = Child(
            "deliveries-receiver",
            [
                *(sys.executable, "-m", "uvicorn", "receiver:create_app", "--app-dir", "bench"),
                *flags,
                *("--host", "127.0.0.1", "--port", str(RECEIVER_PORT)),
            ],
            {},
        )
        started.append(receiver)
        wait_http_ok(api, f"http://127.0.0.1:{API_PORT}/readyz")
        wait_http_ok(receiver, f"http://127.0.0.1:{RECEIVER_PORT}/healthz")
        worker = Child(
            "deliveries-worker", [sys.executable, "-m", "supervision.deliveries"], settings
        )
        started.append(worker)
        wait_http_ok(worker, f"http://127.0.0.1:{DELIVERIES_PORT}/metrics")
        key = create_key("department")
        time.sleep(3)  # the worker joins its group and is assigned the partitions
        wait_until(lambda: worker.alive(), timeout=5, what="the deliveries worker")
        say("latency run")
        lat = asyncio.run(latency(args, key))
        say("throughput run")
        thr = asyncio.run(throughput(args, key))
        say("Kafka EndToEndLatency")
        kafka = kafka_latency(args)
    report = {
        "config": vars(args),
        "latency": lat,
        "throughput": thr,
        "kafka_end_to_end_ms": kafka,
    }
    out: dict[str, Any] = {
        "benchmark": "deliveries",
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
