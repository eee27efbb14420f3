"""Alert push benchmark: an alert POSTed to the emergency api → its push to staff clients over
WebSocket (`/v1/alerts/live`) and SSE (`/v1/alerts/stream`), p50 and p99, at a steady
background load, beside Kafka's own end-to-end latency on the same broker in the same run
(`org.apache.kafka.tools.EndToEndLatency`, acks=all, records of the alert's size).

The api runs as the `Procfile` runs it, on the benchmarks' stack, with its own databases. While
a background task posts `--background` incident reports a second, `--alerts` alerts are POSTed
one at a time, `--interval` seconds apart; each one's latency runs from just before its POST to
its arrival at each of the `--viewers` WebSocket and `--viewers` SSE clients. Kafka's tool then
runs on the same broker under the same background load. Prints one JSON object on stdout;
asserts nothing. The tool's jar (`kafka-tools`, not a broker jar) is fetched once with Maven
into `.local/kafka-tools/` (`bench/triggers.py`).

    .local/venv/bin/python bench/alert_push.py
    .local/venv/bin/python bench/alert_push.py --alerts 50 --background 20 --viewers 2
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
from datetime import datetime, timedelta
from typing import Any

import httpx
from common import (
    BENCH_KAFKA,
    BENCH_MONGO,
    ROOT,
    Child,
    at_most,
    bench_stack_up,
    children,
    drop_databases,
    figure,
    machine,
    percentile_ms,
    procfile_uvicorn,
    random_letters,
    say,
    wait_http_ok,
)
from triggers import kafka_tools_classpath
from websockets.asyncio.client import connect

from fazhi.contracts import emergency as em
from fazhi.contracts import type_of

API_PORT = 19003
DB = "bench_emergency"
AUTH_DB = "bench_auth_emergency"
UNIT = "emergency-management"
ALERT_ISSUED = type_of(em.AlertIssued)
INCIDENT_REPORTED = type_of(em.IncidentReported)


def env() -> dict[str, str]:
    return {
        "EMERGENCY_KAFKA_BOOTSTRAP": BENCH_KAFKA,
        "EMERGENCY_MONGO_URL": BENCH_MONGO,
        "EMERGENCY_MONGO_DB": DB,
        "EMERGENCY_AUTH_DB": AUTH_DB,
    }


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


def now() -> datetime:
    return datetime.now().astimezone()


def event(kind: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/units/{UNIT}",
        "type": kind,
        "subject": subject,
        "time": now().isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def alert(alert_id: str) -> dict[str, Any]:
    return event(
        ALERT_ISSUED,
        alert_id,
        {
            "alert_id": alert_id,
            "msg_type": "alert",
            "status": "exercise",
            "level": "blue",
            "category": "气象",
            "headline": "基准测试：暴雨蓝色预警（演练）",
            "description": "未来6小时将出现20毫米以上降水，请做好防范。",
            "area": "碑林区",
            "effective": now().isoformat(),
            "expires": (now() + timedelta(hours=1)).isoformat(),
            "instruction": "注意防范",
        },
    )


def incident(incident_id: str) -> dict[str, Any]:
    return event(
        INCIDENT_REPORTED,
        incident_id,
        {
            "incident_id": incident_id,
            "category": "自然灾害",
            "grade": "general",
            "title": "基准测试：道路积水",
            "location": "碑林区",
            "occurred_at": now().isoformat(),
        },
    )


STRUCTURED = {"content-type": "application/cloudevents+json"}


class Arrivals:
    """When each alert reached each client (perf_counter seconds), by channel."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, list[float]]] = {"websocket": {}, "sse": {}}

    def record(self, channel: str, alert_id: str) -> None:
        self.seen[channel].setdefault(alert_id, []).append(time.perf_counter())


async def ws_client(url: str, key: str, arrivals: Arrivals, ready: asyncio.Event) -> None:
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"authorization": f"Bearer {key}"}))
        json.loads(await ws.recv())  # where it starts: live from here
        ready.set()
        async for raw in ws:
            frame = json.loads(raw)
            ev = frame.get("event")
            if ev and ev["type"] == ALERT_ISSUED:
                arrivals.record("websocket", ev["data"]["alert_id"])


async def sse_client(base: str, key: str, arrivals: Arrivals, ready: asyncio.Event) -> None:
    headers = {"authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as http,
        http.stream("GET", "/v1/alerts/stream", headers=headers) as stream,
    ):
        async for line in stream.aiter_lines():
            if line.startswith("id: "):
                ready.set()
            elif line.startswith("data: ") and f'"{ALERT_ISSUED}"' in line:
                arrivals.record("sse", json.loads(line[6:])["data"]["alert_id"])


async def background(base: str, key: str, per_s: float, stop: asyncio.Event) -> int:
    posted = 0
    if per_s <= 0:
        return posted
    headers = {"authorization": f"Bearer {key}", **STRUCTURED}
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as http:
        began = time.perf_counter()
        while not stop.is_set():
            due = began + posted / per_s
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = incident(f"bench-i-{random_letters(12)}")
            response = await http.post("/v1/events", content=json.dumps(body).encode())
            posted += response.status_code == 202
    return posted


async def measure(args: argparse.Namespace, staff: str, department: str) -> dict[str, Any]:
    base = f"http://127.0.0.1:{API_PORT}"
    arrivals = Arrivals()
    readies = [asyncio.Event() for _ in range(2 * args.viewers)]
    clients = [
        asyncio.create_task(
            ws_client(base.replace("http", "ws") + "/v1/alerts/live", staff, arrivals, r)
        )
        for r in readies[: args.viewers]
    ] + [asyncio.create_task(sse_client(base, staff, arrivals, r)) for r in readies[args.viewers :]]
    async with asyncio.timeout(60):
        await asyncio.gather(*(r.wait() for r in readies))
    stop = asyncio.Event()
    load = asyncio.create_task(background(base, department, args.background, stop))
    await asyncio.sleep(args.warmup)
    sent: dict[str, float] = {}
    headers = {"authorization": f"Bearer {department}", **STRUCTURED}
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as http:
        for n in range(args.alerts):
            alert_id = f"bench-a-{random_letters(12)}"
            body = json.dumps(alert(alert_id)).encode()
            began = time.perf_counter()
            response = await http.post("/v1/events", content=body)
            if response.status_code == 202:
                sent[alert_id] = began
            if n % 20 == 0:
                say(f"alert {n + 1}/{args.alerts}")
            await asyncio.sleep(args.interval)
    for _ in range(300):  # every push arrived, or 30 s
        if all(
            len(arrivals.seen[ch].get(a, [])) >= args.viewers
            for ch in ("websocket", "sse")
            for a in sent
        ):
            break
        await asyncio.sleep(0.1)
    kafka = await asyncio.to_thread(kafka_latency, args)
    stop.set()
    background_posted = await load
    for task in clients:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    latencies = {
        ch: [t - sent[a] for a in sent for t in arrivals.seen[ch].get(a, [])]
        for ch in ("websocket", "sse")
    }
    return {
        "alerts_posted": len(sent),
        "background_posted": background_posted,
        "pushes": {ch: len(v) for ch, v in latencies.items()},
        "pushes_expected": len(sent) * args.viewers,
        "push_ms": {
            ch: {
                "p50": percentile_ms(v, 50),
                "p99": percentile_ms(v, 99),
                "max": percentile_ms(v, 100),
            }
            for ch, v in latencies.items()
        },
        "kafka_end_to_end_ms": kafka,
    }


def kafka_latency(args: argparse.Namespace) -> dict[str, Any]:
    """EndToEndLatency on the same broker: produce one record (acks=all), consume it, repeat."""
    size = len(json.dumps(alert("bench-a-000000000000")).encode())
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
    avg = re.search(r"Avg latency: ([\d.]+) ms", done.stdout)
    if done.returncode != 0 or found is None:
        say(f"EndToEndLatency failed ({done.returncode}): {done.stderr[-500:]}")
        return {"p50": None, "p99": None, "p999": None, "avg": None, "records": 0}
    return {
        "p50": float(found[1]),
        "p99": float(found[2]),
        "p999": float(found[3]),
        "avg": float(avg[1]) if avg else None,
        "records": args.kafka_records,
        "record_bytes": size,
        "topic": topic,
    }


def figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    kafka = report["kafka_end_to_end_ms"]
    out = []
    for channel, name in (("websocket", "WebSocket"), ("sse", "SSE")):
        push = report["push_ms"][channel]
        out.append(
            figure(
                f"alert POST → {name} push, p50",
                push["p50"],
                "ms",
                reference="Kafka end-to-end p50 (EndToEndLatency, acks=all)",
                reference_value=kafka["p50"],
                target="<= 1000 ms",
                met=at_most(push["p50"], 1000),
                lower_is_better=True,
            )
        )
        out.append(
            figure(
                f"alert POST → {name} push, p99",
                push["p99"],
                "ms",
                reference="Kafka end-to-end p99 (EndToEndLatency, acks=all)",
                reference_value=kafka["p99"],
                target="<= 1000 ms",
                met=at_most(push["p99"], 1000),
                lower_is_better=True,
            )
        )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=200, help="alerts measured")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between alerts")
    parser.add_argument("--background", type=float, default=50.0, help="background events/s")
    parser.add_argument("--viewers", type=int, default=2, help="clients per channel")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load first")
    parser.add_argument("--kafka-records", type=int, default=1000, help="EndToEndLatency records")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    with bench_stack_up(), children() as started:
        drop_databases(DB, AUTH_DB)
        app, flags = procfile_uvicorn("emergency_api")
        api = Child(
            "emergency-api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                *flags,
                "--host",
                "127.0.0.1",
                "--port",
                str(API_PORT),
            ],
            env(),
        )
        started.append(api)
        wait_http_ok(api, f"http://127.0.0.1:{API_PORT}/readyz")
        staff, department = create_key("staff"), create_key("department")
        report = asyncio.run(measure(args, staff, department))
    out = {
        "benchmark": "alert_push",
        "config": vars(args),
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
