"""The fault suite's parts: a stack of its own (Kafka, PostgreSQL, FerretDB through
`scripts/stack.sh`), the four apis and workers on ports of their own, a burst of events from
clients that retry, the faults, and the count of what the burst left in the store.

`faults/run.py` runs every scenario (`make faults`); `tests/integration/test_faults.py` runs one
with a small burst. Nothing here asserts: each scenario returns its figures and its failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fazhi import topology
from fazhi.contracts import emergency as em
from fazhi.contracts import mediation as me
from fazhi.contracts import opengov as og
from fazhi.contracts import supervision as su
from fazhi.contracts import type_of
from fazhi.contracts.envelope import CHINA_TZ

ROOT = Path(__file__).resolve().parents[1]
UNIT = "justice"
EMERGENCY_UNIT = "emergency-management"
LEDGER = "processed_events"
ACK_WINDOW_RED_S = 3
SESSION_TIMEOUT_S = 10
RETRY_AFTER_S = 1


def say(message: str) -> None:
    print(f"[faults] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the stack


@dataclass(frozen=True)
class Ports:
    """Where the fault suite's servers listen: apart from the local stack (9092, 27017, 15432),
    `make run` (8001-8014) and the tests (18001-18014, 18021)."""

    kafka: int = 29092
    """The first broker's client port; broker n (cluster mode) listens on kafka + 2 (n - 1)."""
    controller: int = 29093
    mongo: int = 29017
    pg: int = 29432
    api: int = 28001
    """Service i (in `topology.SERVICES` order) answers on api + i."""
    worker: int = 28011
    replica: int = 28031
    """A second worker replica's `/metrics` port (the pause scenario): replica + i."""


@dataclass
class Stack:
    """Kafka (one broker, or three in cluster mode), PostgreSQL and FerretDB of the fault suite,
    driven by `scripts/stack.sh` with its own state directory and ports."""

    local: Path
    ports: Ports = field(default_factory=Ports)
    nodes: int = 1
    started: bool = False

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FAZHI_LOCAL": str(self.local),
            "FAZHI_KAFKA_PORT": str(self.ports.kafka),
            "FAZHI_CONTROLLER_PORT": str(self.ports.controller),
            "FAZHI_MONGO_PORT": str(self.ports.mongo),
            "FAZHI_PG_PORT": str(self.ports.pg),
            "FAZHI_KAFKA_NODES": str(self.nodes),
            "FAZHI_PYTHON": sys.executable,
            "KAFKA_HEAP_OPTS": "-Xms128m -Xmx512m",
        }

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports)

    @property
    def kafka_ports(self) -> list[int]:
        return [self.ports.kafka + 2 * n for n in range(self.nodes)]

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.ports.mongo}"

    def sh(self, *args: str, check: bool = True) -> int:
        done = subprocess.run(
            [str(ROOT / "scripts" / "stack.sh"), *args],
            cwd=ROOT,
            env=self.env(),
            stdout=sys.stderr,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"scripts/stack.sh {' '.join(args)} failed ({done.returncode})")
        return done.returncode

    def link_binaries(self, source: Path) -> None:
        """Use the Kafka jars and the FerretDB binary of `source` (a `.local` where
        `scripts/stack.sh install` ran) instead of fetching and building them again."""
        for part in (Path("kafka") / "libs", Path("bin") / "ferretdb"):
            target, link = source / part, self.local / part
            if not target.exists():
                raise SystemExit(f"{target} is missing: run `scripts/stack.sh install` first")
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink() and not link.exists():
                link.symlink_to(target)

    def start(self) -> None:
        self.sh("start")
        self.started = True

    def stop(self) -> None:
        self.sh("stop", check=False)

    def reset(self) -> None:
        self.sh("reset", check=False)


# ---------------------------------------------------------------- the services


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    ready_url: str
    argv: list[str]
    env: dict[str, str]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def ready(self) -> bool:
        return self.alive() and _status(self.ready_url) == 200

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


class Services:
    """The four apis and workers (and, when asked, a second replica of a worker), on the fault
    suite's ports and databases (`faults_<database>`)."""

    def __init__(self, stack: Stack, logs: Path, db_prefix: str = "faults_") -> None:
        self.stack = stack
        self.logs = logs
        self.db_prefix = db_prefix
        self.procs: dict[str, Proc] = {}

    def index(self, service: topology.ServiceTopology) -> int:
        return topology.SERVICES.index(service)

    def api_url(self, service: topology.ServiceTopology) -> str:
        return f"http://127.0.0.1:{self.stack.ports.api + self.index(service)}"

    def db(self, service: topology.ServiceTopology) -> str:
        return f"{self.db_prefix}{service.database}"

    @property
    def auth_db(self) -> str:
        return f"{self.db_prefix}{topology.AUTH_DATABASE}"

    def group(self, service: topology.ServiceTopology) -> str:
        return f"{service.package}-worker-faults"

    def env(self, service: topology.ServiceTopology, web_port: int) -> dict[str, str]:
        p = service.env_prefix
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "FAZHI_DEV": "1",
            f"{p}KAFKA_BOOTSTRAP": self.stack.bootstrap,
            f"{p}MONGO_URL": self.stack.mongo_url,
            f"{p}MONGO_DB": self.db(service),
            f"{p}AUTH_DB": self.auth_db,
            f"{p}WORKER_WEB_PORT": str(web_port),
            f"{p}WORKER_GROUP": self.group(service),
            f"{p}KAFKA_TOPIC_REPLICATION": str(3 if self.stack.nodes >= 3 else 1),
            f"{p}PUBLISH_TIMEOUT_S": "5",
            f"{p}RETRY_AFTER_S": str(RETRY_AFTER_S),
            f"{p}CONSUMER_RETRY_BACKOFF_S": "0.05",
            f"{p}TIMER_INTERVAL_S": "2",
            f"{p}SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S),
            f"{p}ACK_WINDOW_RED_S": str(ACK_WINDOW_RED_S),
            f"{p}WATCH_INTERVAL_S": "5",
            f"{p}RETENTION_INTERVAL_S": "0",
        }

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], ready_url: str) -> Proc:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{name}.log").open("ab") as log:
            log.write(f"\n=== {datetime.now(CHINA_TZ).isoformat()} start\n".encode())
            log.flush()
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, ready_url, argv, env)
        self.procs[name] = proc
        return proc

    def start_api(self, service: topology.ServiceTopology) -> Proc:
        port = self.stack.ports.api + self.index(service)
        return self._spawn(
            f"{service.name}-api",
            [
                sys.executable,
                *("-m", "uvicorn", f"{service.package}.api:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
                *("--loop", "uvloop", "--http", "httptools"),
            ],
            self.env(service, self.stack.ports.worker + self.index(service)),
            f"http://127.0.0.1:{port}/readyz",
        )

    def start_worker(self, service: topology.ServiceTopology, replica: int = 0) -> Proc:
        base = self.stack.ports.replica if replica else self.stack.ports.worker
        port = base + self.index(service)
        name = f"{service.name}-worker" + (f"-{replica + 1}" if replica else "")
        return self._spawn(
            name,
            [sys.executable, "-m", f"{service.package}.worker"],
            self.env(service, port),
            f"http://127.0.0.1:{port}/readyz",
        )

    def start_all(self) -> None:
        for service in topology.SERVICES:
            self.start_api(service)
            self.start_worker(service)
        self.wait_ready(list(self.procs.values()))

    def wait_ready(self, procs: Sequence[Proc], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(procs)
        while waiting:
            for proc in list(waiting):
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited; see {self.logs / proc.name}.log")
                if _status(proc.ready_url) == 200:
                    waiting.remove(proc)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(p.name for p in waiting)
                raise RuntimeError(f"not ready after {timeout:.0f} s: {names}")
            time.sleep(0.25)

    def restart(self, name: str) -> Proc:
        """Start the process `name` again (after it was killed), as it was started."""
        old = self.procs.pop(name)
        with contextlib.suppress(subprocess.TimeoutExpired):
            old.popen.wait(10)
        return self._spawn(name, old.argv, old.env, old.ready_url)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        _stop(proc)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.signal(signal.SIGCONT)
            proc.signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                proc.signal(signal.SIGKILL)
                proc.popen.wait(10)
        self.procs.clear()

    def create_key(self, unit: str, role: str) -> str:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "fazhi.cli", "--mongo-url", self.stack.mongo_url),
                *("--auth-db", self.auth_db, "keys", "create", "--unit", unit, "--role", role),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def drop_databases(self) -> None:
        from pymongo import MongoClient

        client: MongoClient[dict[str, Any]] = MongoClient(
            self.stack.mongo_url, serverSelectionTimeoutMS=10000
        )
        try:
            for service in topology.SERVICES:
                client.drop_database(self.db(service))
            client.drop_database(self.auth_db)
        finally:
            client.close()


def _stop(proc: Proc) -> None:
    proc.signal(signal.SIGCONT)
    proc.signal(signal.SIGTERM)
    try:
        proc.popen.wait(20)
    except subprocess.TimeoutExpired:
        proc.signal(signal.SIGKILL)
        proc.popen.wait(10)


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


# ---------------------------------------------------------------- the burst


@dataclass
class Job:
    """One event to post until it is accepted, and what it must leave behind."""

    service: topology.ServiceTopology
    key: str
    event: dict[str, Any]
    kind: str
    derived: tuple[tuple[topology.ServiceTopology, str, str], ...] = ()
    """(service, collection, _id) of the documents its reactions must leave, once each."""
    poison: bool = False
    answers: list[int] = field(default_factory=list)
    accepted: bool = False
    gave_up: str = ""

    @property
    def ledger_id(self) -> str:
        return f"{self.event['source']} {self.event['id']}"


def _event(type_: str, unit: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/units/{unit}",
        "type": type_,
        "subject": subject,
        "time": datetime.now(CHINA_TZ).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def jobs(total: int, tasks: Sequence[str], *, run: str, poison: int = 3) -> list[Job]:
    """`total` events across the four services, in a fixed mix: progress reports (supervision),
    reconsideration cases filed (petition-mediation), incidents reported (emergency; one in five
    graded 较大, whose public notice open-government publishes), major decisions adopted
    (open-government; supervision opens an item on each), red alerts nobody acknowledges (the
    escalation timer fires, supervision opens an item), and `poison` events no worker can apply
    (the end of a response to an incident that does not exist: dead-lettered)."""
    sup, med, emg, gov = topology.SERVICES
    now = datetime.now(CHINA_TZ).isoformat()
    later = (datetime.now(CHINA_TZ) + timedelta(hours=3)).isoformat()
    out: list[Job] = []
    alerts = max(2, total // 500)
    for n in range(total - alerts - poison):
        tag = f"{run}-{n:05d}"
        match n % 4:
            case 0:
                task = tasks[n // 4 % len(tasks)]
                data = {
                    "task_id": task,
                    "unit": UNIT,
                    "progress_pct": 1 + n % 98,
                    "note": "故障演练：进展顺利",
                    "reported_at": now,
                }
                ev = _event(type_of(su.TaskProgressReported), UNIT, task, data)
                out.append(Job(sup, "justice", ev, "progress"))
            case 1:
                case_id = f"FC-{tag}"
                data = {
                    "case_id": case_id,
                    "case_type": "reconsideration",
                    "category": "行政处罚",
                    "applicant": {"name": "王五", "id_number": "610103198503021234"},
                    "respondent_unit": "market-regulation",
                    "summary": "申请人不服行政处罚决定",
                    "filed_at": now,
                }
                ev = _event(type_of(me.CaseFiled), UNIT, case_id, data)
                out.append(Job(med, "justice", ev, "case"))
            case 2:
                incident = f"FI-{tag}"
                graded = n % 20 == 2
                data = {
                    "incident_id": incident,
                    "category": "自然灾害",
                    "grade": "relatively_serious" if graded else "general",
                    "title": "暴雨引发内涝",
                    "location": "碑林区长安路",
                    "occurred_at": now,
                }
                ev = _event(type_of(em.IncidentReported), EMERGENCY_UNIT, incident, data)
                notice = f"notice-incident-{incident}"
                derived: tuple[tuple[topology.ServiceTopology, str, str], ...] = (
                    (emg, "notices", notice),
                    (gov, "documents", f"EN-{notice}"),
                )
                out.append(Job(emg, "emergency", ev, "incident", derived if graded else ()))
            case _:
                decision = f"FD-{tag}"
                data = {
                    "decision_id": decision,
                    "year": 2026,
                    "title": "碑林区老旧小区改造三年行动计划",
                    "unit": UNIT,
                    "adopted_at": now,
                }
                ev = _event(type_of(og.DecisionAdopted), UNIT, decision, data)
                derived = ((sup, "items", f"major-decision-{decision}"),)
                out.append(Job(gov, "justice", ev, "decision", derived))
    for n in range(alerts):
        alert = f"FA-{run}-{n:04d}"
        data = {
            "alert_id": alert,
            "msg_type": "alert",
            "level": "red",
            "category": "气象",
            "headline": "暴雨红色预警",
            "description": "未来3小时将出现100毫米以上降水",
            "area": "碑林区",
            "effective": now,
            "expires": later,
        }
        ev = _event(type_of(em.AlertIssued), EMERGENCY_UNIT, alert, data)
        derived = ((sup, "items", f"unack-{alert}"),)
        out.append(Job(emg, "emergency", ev, "alert", derived))
    for n in range(poison):
        incident = f"FX-{run}-{n:04d}"
        data = {"incident_id": incident, "ended_at": now, "note": "不存在的事件"}
        ev = _event(type_of(em.ResponseEnded), EMERGENCY_UNIT, incident, data)
        out.append(Job(emg, "emergency", ev, "poison", poison=True))
    random.Random(run).shuffle(out)
    return out


@dataclass
class Answers:
    """What the apis answered during the burst, and when."""

    timeout_s: float
    statuses: Counter[str] = field(default_factory=Counter)
    during_fault: Counter[str] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    """Answers the contract forbids: a 5xx other than 503, a 503 without Retry-After, a hang."""
    accepted_times: list[float] = field(default_factory=list)
    fault_window: tuple[float, float] | None = None

    def note(self, what: str, at: float) -> None:
        self.statuses[what] += 1
        start, end = self.fault_window or (float("inf"), float("inf"))
        if start <= at and (end == float("inf") or at <= end):
            self.during_fault[what] += 1


async def _post(
    http: httpx.AsyncClient, url: str, key: str, job: Job, answers: Answers, give_up_s: float
) -> None:
    body = json.dumps(job.event, ensure_ascii=False).encode()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/cloudevents+json"}
    started = time.monotonic()
    while True:
        at = time.monotonic()
        try:
            response = await http.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            answers.note("hang", at)
            answers.bad.append(f"{job.kind} {job.event['id']}: no answer in {answers.timeout_s} s")
            job.answers.append(-1)
        except httpx.TransportError as exc:
            answers.note(f"connection error ({type(exc).__name__})", at)
            job.answers.append(0)
            await asyncio.sleep(0.5)
        else:
            status = response.status_code
            job.answers.append(status)
            answers.note(str(status), at)
            if status == 202:
                job.accepted = True
                answers.accepted_times.append(time.monotonic())
                return
            if status == 503:
                retry_after = response.headers.get("retry-after", "")
                if not retry_after.isdigit():
                    answers.bad.append(f"{job.kind}: 503 without Retry-After")
                await asyncio.sleep(float(retry_after) if retry_after.isdigit() else 1.0)
            elif status >= 500:
                answers.bad.append(f"{job.kind}: {status} {response.text[:200]}")
                await asyncio.sleep(0.5)
            else:
                job.gave_up = f"{status} {response.text[:300]}"
                answers.bad.append(f"{job.kind}: refused {job.gave_up}")
                return
        if time.monotonic() - started > give_up_s:
            job.gave_up = f"no 202 within {give_up_s:.0f} s"
            return


async def burst(
    services: Services,
    keys: dict[str, str],
    todo: Sequence[Job],
    *,
    clients: int,
    timeout_s: float,
    give_up_s: float,
    answers: Answers,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Post every job from `clients` concurrent clients; returns the seconds it took."""
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in todo:
        queue.put_nowait(job)
    taken = 0

    async def client() -> None:
        nonlocal taken
        # an idle connection is closed by the client before uvicorn's keep-alive timeout (5 s)
        # closes it, so a request never races the server's close of the connection it reuses
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as http:
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                taken += 1
                if progress is not None:
                    progress(taken)
                url = f"{services.api_url(job.service)}/v1/events"
                await _post(http, url, keys[job.key], job, answers, give_up_s)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.monotonic() - started


# ---------------------------------------------------------------- the count


@dataclass
class Count:
    accepted: int = 0
    effects: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)
    """Effects of events never answered 202."""
    derived_missing: list[str] = field(default_factory=list)
    dlq_unexpected: list[str] = field(default_factory=list)
    dlq_missing: list[str] = field(default_factory=list)
    reposts_dropped: int = 0
    lag: dict[str, int] = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.phantom
            or self.derived_missing
            or self.dlq_unexpected
            or self.dlq_missing
            or any(self.lag.values())
        )


async def count(
    services: Services, todo: Sequence[Job], dlq_since: dict[str, dict[int, int]]
) -> Count:
    """What the burst left: one ledger entry per accepted event (applied, or dead-lettered for
    poison), one timeline row per progress report, every derived document, the dead letters,
    and each worker group's lag."""
    from pymongo import AsyncMongoClient

    result = Count()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        services.stack.mongo_url, serverSelectionTimeoutMS=10000
    )
    try:
        by_service: dict[str, list[Job]] = {}
        for job in todo:
            by_service.setdefault(job.service.name, []).append(job)
        for name, group in by_service.items():
            db = mongo[services.db(topology.service(name))]
            ids = [job.ledger_id for job in group]
            found: dict[str, dict[str, Any]] = {}
            for chunk in _chunks(ids, 200):
                async for entry in db[LEDGER].find({"_id": {"$in": chunk}}):
                    found[entry["_id"]] = entry
            for job in group:
                row = found.get(job.ledger_id)
                if job.accepted:
                    result.accepted += 1
                    want = "dead_lettered" if job.poison else "applied"
                    if row is None or row.get("outcome") != want:
                        result.lost.append(
                            f"{job.kind} {job.event['id']}: {row and row.get('outcome')}"
                        )
                    else:
                        result.effects += 1
                        if row.get("duplicate"):
                            result.reposts_dropped += 1
                elif row is not None:
                    result.phantom.append(f"{job.kind} {job.event['id']}")
        sup = topology.SUPERVISION
        progress = [job for job in todo if job.kind == "progress"]
        # a report is on its task's timeline and on its measure's (the roll-up): once on each
        rows: Counter[tuple[str, str]] = Counter()
        per_event: Counter[str] = Counter()
        for chunk in _chunks([job.event["id"] for job in progress], 200):
            async for row in mongo[services.db(sup)]["task_history"].find(
                {"event_id": {"$in": chunk}}, {"event_id": 1, "task_id": 1}
            ):
                rows[(row["event_id"], row["task_id"])] += 1
                per_event[row["event_id"]] += 1
        for job in progress:
            n = rows[(job.event["id"], job.event["subject"])]
            n_all = per_event[job.event["id"]]
            if n > 1 or n_all > 2:
                result.duplicated.append(f"progress {job.event['id']}: {n_all} timeline rows")
            elif job.accepted and n == 0:
                result.lost.append(f"progress {job.event['id']}: no timeline row")
        wanted: dict[tuple[str, str], list[str]] = {}
        for job in todo:
            if job.accepted:
                for service, collection, doc_id in job.derived:
                    wanted.setdefault((services.db(service), collection), []).append(doc_id)
        for (db_name, collection), doc_ids in wanted.items():
            present: set[str] = set()
            for chunk in _chunks(doc_ids, 200):
                async for row in mongo[db_name][collection].find(
                    {"_id": {"$in": chunk}}, {"_id": 1}
                ):
                    present.add(row["_id"])
            result.derived_missing += [f"{collection} {d}" for d in doc_ids if d not in present]
    finally:
        await mongo.close()
    poison = {job.event["id"] for job in todo if job.poison and job.accepted}
    ours = {job.event["id"] for job in todo}
    letters = await read_ids(services.stack.bootstrap, dlq_since)
    result.dlq_unexpected = sorted(i for i in letters if i in ours and i not in poison)
    result.dlq_missing = sorted(poison - set(letters))
    result.lag = await group_lag(services)
    return result


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[str, dict[int, int]]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, request_timeout_ms=15000
    )
    await consumer.start()
    try:
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))
        ]
        ends = await consumer.end_offsets(tps)
        out: dict[str, dict[int, int]] = {}
        for tp, offset in ends.items():
            out.setdefault(tp.topic, {})[tp.partition] = offset
        return out
    finally:
        await consumer.stop()


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client._wait_on_metadata(topic)
    return set(consumer.partitions_for_topic(topic) or ())


async def read_ids(bootstrap: str, since: dict[str, dict[int, int]]) -> list[str]:
    """The CloudEvent ids of the records appended to the topics of `since` after its offsets."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    ends = await end_offsets(bootstrap, list(since))
    wanted = {
        TopicPartition(t, p): end
        for t, parts in ends.items()
        for p, end in parts.items()
        if end > since[t].get(p, 0)
    }
    if not wanted:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    ids: list[str] = []
    try:
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, since[tp.topic].get(tp.partition, 0))
        remaining = dict(wanted)
        async with asyncio.timeout(60):
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, messages in batch.items():
                    for m in messages:
                        if m.offset < remaining.get(tp, 0) and m.value:
                            with contextlib.suppress(ValueError, KeyError):
                                ids.append(json.loads(m.value)["id"])
                    if messages and messages[-1].offset + 1 >= remaining.get(tp, 0):
                        remaining.pop(tp, None)
    finally:
        await consumer.stop()
    return ids


async def group_lag(services: Services) -> dict[str, int]:
    """Each worker group's lag over the topics it consumes (records not yet committed)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=services.stack.bootstrap, request_timeout_ms=15000
    )
    await admin.start()
    try:
        ends = await end_offsets(services.stack.bootstrap, list(topology.EVENT_TOPICS))
        lag: dict[str, int] = {}
        for service in topology.SERVICES:
            group = services.group(service)
            committed = await admin.list_consumer_group_offsets(group)
            total = 0
            for topic in service.consumed_topics:
                for partition, end in ends.get(topic, {}).items():
                    done = next(
                        (
                            meta.offset
                            for tp, meta in committed.items()
                            if tp.topic == topic and tp.partition == partition
                        ),
                        0,
                    )
                    total += max(0, end - max(done, 0))
            lag[group] = total
        return lag
    finally:
        await admin.close()


# ---------------------------------------------------------------- the faults


@dataclass
class FaultContext:
    stack: Stack
    services: Services
    marks: dict[str, float] = field(default_factory=dict)
    """`injected` and `restored` (monotonic seconds)."""
    notes: list[str] = field(default_factory=list)


Fault = Callable[[FaultContext], Awaitable[None]]
DOWN_S = 10.0


async def _sh(ctx: FaultContext, *args: str) -> None:
    await asyncio.to_thread(ctx.stack.sh, *args)


def _kill(process: str) -> Fault:
    async def fault(ctx: FaultContext) -> None:
        proc = ctx.services.procs[process]
        ctx.marks["injected"] = time.monotonic()
        proc.signal(signal.SIGKILL)
        await asyncio.to_thread(proc.popen.wait, 10)
        await asyncio.sleep(2.0)
        ctx.marks["restored"] = time.monotonic()
        ctx.services.restart(process)

    return fault


def _kafka(how: str, node: int = 1) -> Fault:
    async def fault(ctx: FaultContext) -> None:
        ctx.marks["injected"] = time.monotonic()
        await _sh(ctx, how, *([str(node)] if ctx.stack.nodes > 1 else []))
        await asyncio.sleep(DOWN_S)
        await _sh(ctx, "kafka-start")
        ctx.marks["restored"] = time.monotonic()

    return fault


async def _ferretdb(ctx: FaultContext) -> None:
    ctx.marks["injected"] = time.monotonic()
    await _sh(ctx, "ferretdb-stop")
    await asyncio.sleep(DOWN_S)
    await _sh(ctx, "start")
    ctx.marks["restored"] = time.monotonic()


async def _postgres(ctx: FaultContext) -> None:
    # PostgreSQL goes away under a running FerretDB, as a database restart would do it.
    ctx.marks["injected"] = time.monotonic()
    await _sh(ctx, "postgres-stop")
    await asyncio.sleep(DOWN_S)
    await _sh(ctx, "start")
    ctx.marks["restored"] = time.monotonic()


async def _pause(ctx: FaultContext) -> None:
    """SIGSTOP one of two replicas of the supervision worker past its session timeout: the
    other takes its partitions; resumed, the paused one must not write what it no longer owns."""
    proc = ctx.services.procs["supervision-worker"]
    ctx.marks["injected"] = time.monotonic()
    proc.signal(signal.SIGSTOP)
    await asyncio.sleep(SESSION_TIMEOUT_S + 8)
    proc.signal(signal.SIGCONT)
    ctx.marks["restored"] = time.monotonic()


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    what: str
    replicas: tuple[str, ...] = ()
    """Services whose worker runs a second replica during the scenario."""
    cluster_only: bool = False
    single_only: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("worker-kill", _kill("supervision-worker"), "kill -9 the supervision worker"),
    Scenario("api-kill", _kill("open-government-api"), "kill -9 the open-government api"),
    Scenario("kafka-term", _kafka("kafka-stop"), "Kafka broker TERM, 10 s down, started again"),
    Scenario("kafka-kill", _kafka("kafka-kill"), "Kafka broker kill -9, 10 s down, started again"),
    Scenario("ferretdb-restart", _ferretdb, "FerretDB stopped 10 s, started again"),
    Scenario(
        "postgres-restart", _postgres, "PostgreSQL stopped 10 s under FerretDB, started again"
    ),
    Scenario(
        "worker-pause",
        _pause,
        f"SIGSTOP a supervision worker replica {SESSION_TIMEOUT_S + 8} s "
        f"(session timeout {SESSION_TIMEOUT_S} s), then SIGCONT",
        replicas=("supervision",),
    ),
)


# ---------------------------------------------------------------- one scenario


@dataclass
class Result:
    scenario: str
    what: str
    events: int
    answered_202: int
    effects: int
    lost: int
    duplicated: int
    phantom: int
    derived_missing: int
    dlq_unexpected: int
    dlq_missing: int
    reposts_dropped: int
    lag: int
    burst_s: float
    apis_ready_s: float | None
    """From the fault's end until every api's `/readyz` says 200 (takes writes again)."""
    recovery_s: float | None
    """From the fault's end until every api and worker answers `/readyz` with 200."""
    ready_s: dict[str, float]
    """From the fault's end until each process answered `/readyz` with 200."""
    catch_up_s: float | None
    answers: dict[str, int]
    answers_during_fault: dict[str, int]
    bad_answers: int
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


async def run_scenario(
    scenario: Scenario,
    services: Services,
    keys: dict[str, str],
    tasks: Sequence[str],
    *,
    events: int,
    clients: int = 16,
    timeout_s: float = 15.0,
    give_up_s: float = 180.0,
    catch_up_timeout_s: float = 300.0,
) -> Result:
    run = uuid.uuid4().hex[:6]
    todo = jobs(events, tasks, run=run)
    say(f"{scenario.name}: {scenario.what}; {len(todo)} events from {clients} clients")
    extra = [services.start_worker(topology.service(name), replica=1) for name in scenario.replicas]
    if extra:
        await asyncio.to_thread(services.wait_ready, extra)
    dlq_since = await end_offsets(services.stack.bootstrap, list(topology.DLQ_TOPICS))
    ctx = FaultContext(services.stack, services)
    answers = Answers(timeout_s)
    half = asyncio.Event()

    def progress(taken: int) -> None:
        if taken >= len(todo) // 2:
            half.set()

    ready_s: dict[str, float] = {}
    recovered: dict[str, float] = {}

    async def inject() -> None:
        await half.wait()
        answers.fault_window = (time.monotonic(), float("inf"))
        await scenario.fault(ctx)
        restored = ctx.marks["restored"]
        answers.fault_window = (answers.fault_window[0], restored)
        # while the burst goes on: when each process answers `/readyz` again
        while time.monotonic() < restored + catch_up_timeout_s:
            for name, proc in list(services.procs.items()):
                if name not in ready_s and await asyncio.to_thread(proc.ready):
                    ready_s[name] = round(time.monotonic() - restored, 1)
            apis = [n for n in services.procs if n.endswith("-api")]
            if "apis" not in recovered and all(n in ready_s for n in apis):
                recovered["apis"] = max(ready_s[n] for n in apis)
            if all(n in ready_s for n in services.procs):
                recovered["all"] = max(ready_s.values())
                return
            await asyncio.sleep(0.25)

    fault_task = asyncio.create_task(inject())
    burst_s = await burst(
        services,
        keys,
        todo,
        clients=clients,
        timeout_s=timeout_s,
        give_up_s=give_up_s,
        answers=answers,
        progress=progress,
    )
    burst_end = time.monotonic()
    await fault_task
    recovery_s, apis_ready_s = recovered.get("all"), recovered.get("apis")
    deadline = ctx.marks["restored"] + catch_up_timeout_s
    catch_up_s: float | None = None
    counted = Count()
    while time.monotonic() < deadline:
        try:
            # Counting reads every effect of the burst (on FerretDB v1 `$in` scans a collection):
            # it waits until no worker group lags, so it does not slow the workers it waits for.
            if any((await group_lag(services)).values()):
                await asyncio.sleep(2)
                continue
            counted = await count(services, todo, dlq_since)
        except Exception as exc:  # the store or the broker still coming back
            say(f"{scenario.name}: counting failed ({exc!r}); again")
            await asyncio.sleep(2)
            continue
        if counted.whole:
            catch_up_s = round(time.monotonic() - burst_end, 1)
            break
        await asyncio.sleep(2)
    for proc in extra:
        services.stop(proc.name)
    failures = []
    if counted.lost:
        failures.append(f"lost {len(counted.lost)}: {counted.lost[:5]}")
    if counted.duplicated:
        failures.append(f"duplicated {len(counted.duplicated)}: {counted.duplicated[:5]}")
    if counted.phantom:
        failures.append(f"effects without a 202: {counted.phantom[:5]}")
    if counted.derived_missing:
        failures.append(
            f"derived missing {len(counted.derived_missing)}: {counted.derived_missing[:5]}"
        )
    if counted.dlq_unexpected:
        failures.append(f"dead letters not poison: {counted.dlq_unexpected[:5]}")
    if counted.dlq_missing:
        failures.append(f"poison not dead-lettered: {counted.dlq_missing[:5]}")
    if any(counted.lag.values()):
        failures.append(f"lag {counted.lag}")
    if answers.bad:
        failures.append(f"answers the contract forbids {len(answers.bad)}: {answers.bad[:5]}")
    gave_up = [job for job in todo if not job.accepted]
    if gave_up:
        failures.append(f"never accepted {len(gave_up)}: {[j.gave_up for j in gave_up[:3]]}")
    if recovery_s is None:
        failures.append("not every api and worker ready again")
    return Result(
        scenario=scenario.name,
        what=scenario.what,
        events=len(todo),
        answered_202=sum(job.accepted for job in todo),
        effects=counted.effects,
        lost=len(counted.lost) + len(counted.derived_missing),
        duplicated=len(counted.duplicated),
        phantom=len(counted.phantom),
        derived_missing=len(counted.derived_missing),
        dlq_unexpected=len(counted.dlq_unexpected),
        dlq_missing=len(counted.dlq_missing),
        reposts_dropped=counted.reposts_dropped,
        lag=sum(counted.lag.values()),
        burst_s=round(burst_s, 1),
        apis_ready_s=apis_ready_s,
        recovery_s=recovery_s,
        ready_s=ready_s,
        catch_up_s=catch_up_s,
        answers=dict(answers.statuses),
        answers_during_fault=dict(answers.during_fault),
        bad_answers=len(answers.bad),
        failures=failures,
    )


def plan_tasks(services: Services, limit: int = 40) -> list[str]:
    """Plan tasks the `justice` unit owns (the supervision worker loaded the plan at start)."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(services.stack.mongo_url)
    try:
        rows = client[services.db(topology.SUPERVISION)]["tasks"].find(
            {"owner_units": UNIT, "kind": "task"}, {"_id": 1}
        )
        found = sorted(str(row["_id"]) for row in rows)
    finally:
        client.close()
    if not found:
        raise RuntimeError("no plan tasks of the justice unit: did the supervision worker start?")
    return found[:limit]


def demo_keys(services: Services) -> dict[str, str]:
    return {
        "justice": services.create_key(UNIT, "department"),
        "emergency": services.create_key(EMERGENCY_UNIT, "department"),
    }
