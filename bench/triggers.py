"""Supervision's own figures, on the benchmarks' stack, each beside Kafka's floor in the same run.

`latency`: an inspection finding (`supervision.finding.recorded`) posted to the supervision api
while a steady background of progress reports flows through the same topic; per trigger, the
time from sending it to its item being readable at `GET /v1/items?source_event_id=` (polled
every 5 ms) and to its `supervision.item.opened` arriving on an SSE client of `/v1/stream`.
Reference: Kafka's own `org.apache.kafka.tools.EndToEndLatency` (produce with acks=all, consume)
on the same broker, same run. A second reference for the item: the same triggers, background,
api and query once more with the worker stopped and `bench/raw_items.py` in its place (a bare
aiokafka consumer inserting a copy of an item the worker opened, one insert per finding): the
least any consumer turning a trigger into a readable item takes here.

`watch`: `size` open milestones under the deadline watch, `due` of them falling due today; one
look of the watch (`supervision.watch.TASK_WATCH.run`, as the worker's timer runs it)
until every overdue notice is acknowledged by Kafka. Reference: a raw aiokafka producer sending
the same records.

    .local/venv/bin/python bench/triggers.py [--triggers 200] [--milestones 100000] [--due 1000]

Prints one JSON object (progress on stderr). The kafka-tools jar (EndToEndLatency) is not one
the broker needs: it is fetched once with Maven into `.local/kafka-tools/` when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import json_util
from common import (
    BENCH_KAFKA,
    BENCH_MONGO,
    LOGS,
    ROOT,
    Child,
    at_most,
    bench_stack_up,
    children,
    figure,
    kafka_record,
    machine,
    percentile_ms,
    procfile_uvicorn,
    producer,
    progress_event,
    random_letters,
    say,
    service_env,
    wait_http_ok,
    wait_until,
)
from pymongo import AsyncMongoClient, MongoClient

from fazhi.bus.publisher import KafkaPublisher
from fazhi.bus.timers import TimerContext
from fazhi.contracts import supervision as su
from fazhi.contracts import type_of
from fazhi.contracts.envelope import CHINA_TZ
from supervision.config import Settings
from supervision.store import TASKS, ensure_indexes
from supervision.watch import TASK_WATCH, task_events

DB = "bench_supervision_live"
WATCH_DB = "bench_supervision_watch"
AUTH_DB = "bench_auth_supervision"
API_PORT, WORKER_PORT = 19021, 19022
GROUP = "bench-supervision-worker"
TOPICS = ("supervision.events", "emergency.events", "mediation.events", "opengov.events")
KAFKA_LIBS = ROOT / ".local" / "kafka" / "libs"
TOOLS_DIR = ROOT / ".local" / "kafka-tools"
E2E_TOPIC = "bench.e2e-latency"


# ---------------------------------------------------------------- Kafka's floor


def kafka_tools_classpath() -> str:
    jars = sorted(TOOLS_DIR.glob("kafka-tools-*.jar"))
    if not jars:
        version = next(KAFKA_LIBS.glob("kafka-clients-*.jar")).stem.removeprefix("kafka-clients-")
        say(f"fetching kafka-tools {version} (EndToEndLatency) with Maven")
        subprocess.run(
            [
                *("mvn", "-q", "-B", "dependency:copy"),
                f"-Dartifact=org.apache.kafka:kafka-tools:{version}",
                f"-DoutputDirectory={TOOLS_DIR}",
            ],
            check=True,
            stdout=sys.stderr,
        )
    return f"{TOOLS_DIR}/*:{KAFKA_LIBS}/*"


def kafka_end_to_end(records: int) -> dict[str, Any]:
    """Kafka's own EndToEndLatency: one record at a time, produced (acks=all) and consumed."""
    done = subprocess.run(
        [
            *("java", "-Xmx256m", "-cp", kafka_tools_classpath()),
            "org.apache.kafka.tools.EndToEndLatency",
            *("--bootstrap-server", BENCH_KAFKA, "--topic", E2E_TOPIC),
            *("--num-records", str(records), "--producer-acks", "all", "--record-size", "700"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    avg = re.search(r"Avg latency: ([\d.]+) ms", done.stdout)
    pct = re.search(r"50th = (\d+), 99th = (\d+), 99.9th = (\d+)", done.stdout)
    return {
        "records": records,
        "avg_ms": float(avg.group(1)) if avg else None,
        "p50_ms": float(pct.group(1)) if pct else None,
        "p99_ms": float(pct.group(2)) if pct else None,
        "p999_ms": float(pct.group(3)) if pct else None,
    }


# ---------------------------------------------------------------- trigger → item, → SSE


async def position_at_end(group: str) -> None:
    """Commit the end of every topic the worker reads, so it skips what earlier runs left."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BENCH_KAFKA)
    await admin.start()
    try:
        described = await admin.describe_topics(list(TOPICS))
    finally:
        await admin.close()
    tps = [
        TopicPartition(d["topic"], p["partition"])
        for d in described
        if not d["error_code"]
        for p in d["partitions"]
    ]
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


def create_key() -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "fazhi.cli", "--mongo-url", BENCH_MONGO, "--auth-db", AUTH_DB),
            *("keys", "create", "--unit", "gov-office", "--role", "supervisor"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


class Stream(threading.Thread):
    """An SSE client of `/v1/stream`: when each item's `supervision.item.opened` arrived."""

    def __init__(self, key: str) -> None:
        super().__init__(daemon=True)
        self.key = key
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        url = f"http://127.0.0.1:{API_PORT}/v1/stream"
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=None)) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            for line in response.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("id:"):
                    self.ready.set()
                elif line.startswith("data:"):
                    event = json.loads(line[5:])
                    if event["type"] == type_of(su.ItemOpened):
                        self.arrived.setdefault(event["data"]["source_event_id"], time.monotonic())


async def background(rate: float, stop: asyncio.Event) -> int:
    """Progress reports straight onto the topic at a steady `rate` per second."""
    client = producer(BENCH_KAFKA)
    await client.start()
    sent = 0
    try:
        started = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - started) * rate)
            while sent < due:
                event = progress_event(str(uuid.uuid4()), f"BG-{sent % 500}", sent)
                value, key, headers = kafka_record(event)
                await client.send("supervision.events", value=value, key=key, headers=headers)
                sent += 1
            await asyncio.sleep(0.01)
    finally:
        await client.stop()
    return sent


def finding(finding_id: str) -> dict[str, Any]:
    now = datetime.now(CHINA_TZ)
    return {
        "specversion": "1.0",
        "id": f"bench-{finding_id}",
        "source": "/units/gov-office",
        "type": type_of(su.FindingRecorded),
        "subject": finding_id,
        "time": now.isoformat(),
        "data": {
            "finding_id": finding_id,
            "target_unit": "justice",
            "title": "基准测试督查发现",
            "level": "blue",
            "due_date": (now.date() + timedelta(days=30)).isoformat(),
            "recorded_at": now.isoformat(),
        },
    }


async def triggers(key: str, count: int, stream: Stream | None) -> dict[str, Any]:
    """Post `count` findings one at a time; each timed to its item (and, with `stream`, to its
    push)."""
    headers = {"authorization": f"Bearer {key}"}
    to_item: list[float] = []
    sent_at: dict[str, float] = {}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{API_PORT}", headers=headers, timeout=30
    ) as http:
        for n in range(count + 10):  # the first 10 warm up
            body = finding(f"L{random_letters(10)}")
            started = time.monotonic()
            answer = await http.post(
                "/v1/events",
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"content-type": "application/cloudevents+json"},
            )
            if answer.status_code != 202:
                raise SystemExit(f"trigger refused: {answer.status_code} {answer.text}")
            while True:
                found = await http.get("/v1/items", params={"source_event_id": body["id"]})
                if found.json()["items"]:
                    break
                if time.monotonic() - started > 30:
                    raise SystemExit("a trigger's item did not show within 30 s")
                await asyncio.sleep(0.005)
            if n >= 10:
                to_item.append(time.monotonic() - started)
                sent_at[body["id"]] = started
            await asyncio.sleep(0.02)
    if stream is None:
        return {"triggers": count, "to_item_ms": {p: percentile_ms(to_item, q) for p, q in PCTS}}
    with contextlib.suppress(TimeoutError):  # what never came is counted as missed
        await asyncio.to_thread(
            lambda: wait_until(
                lambda: set(sent_at) <= set(stream.arrived), timeout=30, what="every SSE push"
            )
        )
    to_sse = [stream.arrived[i] - t for i, t in sent_at.items() if i in stream.arrived]
    return {
        "triggers": count,
        "to_item_ms": {p: percentile_ms(to_item, q) for p, q in PCTS},
        "to_sse_ms": {p: percentile_ms(to_sse, q) for p, q in PCTS},
        "sse_missed": count - len(to_sse),
    }


PCTS = (("p50", 50), ("p95", 95), ("p99", 99))


def latency(args: argparse.Namespace, started: list[Child]) -> dict[str, Any]:
    say("latency: starting the supervision worker and api")
    with MongoClient[dict[str, Any]](BENCH_MONGO) as mongo:
        mongo.drop_database(DB)
        mongo.drop_database(AUTH_DB)
    asyncio.run(position_at_end(GROUP))
    env = service_env(
        db=DB,
        auth_db=AUTH_DB,
        worker_group=GROUP,
        worker_web_port=str(WORKER_PORT),
        watch_interval_s="3600",
    )
    worker = Child("supervision-worker", [sys.executable, "-m", "supervision.worker"], env)
    started.append(worker)
    app, flags = procfile_uvicorn("supervision_api")
    argv = [sys.executable, "-m", "uvicorn", app, *flags, "--host", "127.0.0.1"]
    api = Child("supervision-api", [*argv, "--port", str(API_PORT)], env)
    started.append(api)
    wait_http_ok(api, f"http://127.0.0.1:{API_PORT}/readyz")
    wait_http_ok(worker, f"http://127.0.0.1:{WORKER_PORT}/metrics")
    key = create_key()
    stream = Stream(key)
    stream.start()
    wait_until(stream.ready.is_set, timeout=30, what="the stream's first message")

    async def measure(stream: Stream | None) -> tuple[dict[str, Any], int]:
        stop = asyncio.Event()
        load = asyncio.create_task(background(args.background_rate, stop))
        await asyncio.sleep(2)
        try:
            result = await triggers(key, args.triggers, stream)
        finally:
            stop.set()
        return result, await load

    say(f"latency: {args.triggers} triggers at {args.background_rate}/s background")
    result, background_sent = asyncio.run(measure(stream))
    stream.stop.set()
    raw = bare_consumer(args, started, worker, measure)
    say(f"latency: Kafka EndToEndLatency, {args.kafka_records} records")
    floor = kafka_end_to_end(args.kafka_records)
    return {
        **result,
        "background_rate": args.background_rate,
        "background_sent": background_sent,
        "kafka_end_to_end": floor,
        "bare_consumer": raw,
    }


def bare_consumer(
    args: argparse.Namespace,
    started: list[Child],
    worker: Child,
    measure: Callable[[Stream | None], Coroutine[Any, Any, tuple[dict[str, Any], int]]],
) -> dict[str, Any]:
    """The same triggers with the worker stopped and `bench/raw_items.py` opening their items
    (copies of one the worker opened), timed the same way: the floor of trigger → item."""
    with MongoClient[dict[str, Any]](BENCH_MONGO) as mongo:
        template = mongo[DB]["items"].find_one({"kind": "inspection_finding"})
    if template is None:
        raise SystemExit("the worker opened no finding item to copy")
    worker.stop()
    path = LOGS / "raw-items-template.json"
    path.write_text(json_util.dumps(template))
    logged = LOGS / "raw-items.log"
    seen = logged.stat().st_size if logged.exists() else 0  # the log is appended to
    consumer = Child(
        "raw-items",
        [
            *(sys.executable, "bench/raw_items.py", "--kafka", BENCH_KAFKA),
            *("--mongo", BENCH_MONGO, "--db", DB, "--template", str(path)),
        ],
        {},
    )
    started.append(consumer)
    wait_until(
        lambda: b"ready" in consumer.log_path.read_bytes()[seen:] or not consumer.alive(),
        timeout=60,
        what="the bare consumer's partitions",
    )
    if not consumer.alive():
        raise SystemExit(f"bench/raw_items.py stopped; see {consumer.log_path}")
    say(f"latency: {args.triggers} triggers to the bare consumer")
    result, background_sent = asyncio.run(measure(None))
    consumer.stop()
    return {**result, "background_sent": background_sent}


# ---------------------------------------------------------------- the overdue watch


async def watch(args: argparse.Namespace) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        BENCH_MONGO, tz_aware=True, tzinfo=CHINA_TZ
    )
    db = client[WATCH_DB]
    await client.drop_database(WATCH_DB)
    await ensure_indexes(db)
    now = datetime.now(CHINA_TZ)
    today = now.date()
    say(f"watch: {args.milestones} open milestones, {args.due} falling due today")
    docs = []
    for n in range(args.milestones):
        late = n < args.due
        due = today - timedelta(days=1) if late else today + timedelta(days=15 + n % 700)
        watch_day = today if late else due - timedelta(days=14)
        docs.append(
            {
                "_id": f"W-{n}",
                "kind": "milestone",
                "unit": "justice",
                "status": "not_started",
                "due_at": datetime.combine(due, datetime.max.time(), CHINA_TZ).replace(
                    microsecond=0
                ),
                "due_day": due.isoformat(),
                "watch_day": watch_day.isoformat(),
            }
        )
    for start in range(0, len(docs), 1000):
        await db[TASKS].insert_many(docs[start : start + 1000])
    publisher = KafkaPublisher(BENCH_KAFKA, client_id="bench-watch")
    await publisher.start()
    try:
        timer = TimerContext(Settings(), db, publisher, clock=lambda: now)
        started = time.monotonic()
        published = await TASK_WATCH.run(timer)
        tick_s = time.monotonic() - started
        # The floor: the same records, already built, from a raw producer.
        records = [kafka_record(e) for d in docs[: args.due] for e in task_events(d, today, now)]
        raw = producer(BENCH_KAFKA)
        await raw.start()
        started = time.monotonic()
        futures = [
            await raw.send("supervision.events", value=v, key=k, headers=h) for v, k, h in records
        ]
        await asyncio.gather(*futures)
        raw_s = time.monotonic() - started
        await raw.stop()
    finally:
        await publisher.stop()
        await client.drop_database(WATCH_DB)
        await client.close()
    return {
        "milestones": args.milestones,
        "due": args.due,
        "published": published,
        "tick_s": round(tick_s, 3),
        "raw_producer_s": round(raw_s, 3),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triggers", type=int, default=200)
    parser.add_argument("--background-rate", type=float, default=50.0)
    parser.add_argument("--kafka-records", type=int, default=1000)
    parser.add_argument("--milestones", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--skip-latency", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: dict[str, Any] = {"benchmark": "triggers", "machine": machine()}
    with bench_stack_up(), children() as started:
        if not args.skip_latency:
            out["latency"] = latency(args, started)
        out["watch"] = asyncio.run(watch(args))
    figures = []
    if "latency" in out:
        lat, floor = out["latency"], out["latency"]["kafka_end_to_end"]
        for name, key in (("trigger → item", "to_item_ms"), ("trigger → SSE push", "to_sse_ms")):
            for pct in ("p50", "p99"):
                value = lat[key][pct]
                above = (
                    None
                    if value is None or floor[f"{pct}_ms"] is None
                    else value - floor[f"{pct}_ms"]
                )
                limit = 20 if pct == "p50" else 100
                figures.append(
                    figure(
                        f"supervision {name} {pct}",
                        value,
                        "ms",
                        reference=f"Kafka EndToEndLatency {pct}, same broker",
                        reference_value=floor[f"{pct}_ms"],
                        target=f"<= {limit} ms above the Kafka floor",
                        met=at_most(above, limit),
                        lower_is_better=True,
                    )
                )
        raw = out["latency"].get("bare_consumer")
        if raw is not None:
            figures.append(
                figure(
                    "supervision trigger → item p50, beside a bare consumer",
                    lat["to_item_ms"]["p50"],
                    "ms",
                    reference=(
                        "the same triggers, api and query with bench/raw_items.py (aiokafka, one "
                        "insert per finding) in the worker's place: p50"
                    ),
                    reference_value=raw["to_item_ms"]["p50"],
                    lower_is_better=True,
                )
            )
    w = out["watch"]
    figures.append(
        figure(
            f"overdue watch: {w['due']:,} of {w['milestones']:,} milestones due",
            w["tick_s"],
            "s",
            reference="raw aiokafka producer, the same records",
            reference_value=w["raw_producer_s"],
            target="<= 2 s",
            met=at_most(w["tick_s"], 2.0),
            lower_is_better=True,
        )
    )
    out["figures"] = figures
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
