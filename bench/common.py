"""Helpers shared by the benchmarks: child processes, RSS from /proc, percentiles, machine facts.

Not a test helper: the benchmarks print JSON and assert nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".local" / "logs" / "bench"
LOCAL_KAFKA = "127.0.0.1:9092"
LOCAL_MONGO = "mongodb://127.0.0.1:27017"
# The benchmarks' own stack: the same Kafka jars and FerretDB binary as the local stack, its own
# state directory, PostgreSQL cluster and ports, so their events never reach the local stack's
# consumer groups.
BENCH_LOCAL = ROOT / ".local" / "bench-stack"
BENCH_PORTS = {
    "FAZHI_KAFKA_PORT": "19092",
    "FAZHI_CONTROLLER_PORT": "19093",
    "FAZHI_MONGO_PORT": "19017",
    "FAZHI_PG_PORT": "19432",
}
BENCH_KAFKA = f"127.0.0.1:{BENCH_PORTS['FAZHI_KAFKA_PORT']}"
BENCH_MONGO = f"mongodb://127.0.0.1:{BENCH_PORTS['FAZHI_MONGO_PORT']}"
DB = "bench_supervision"
AUTH_DB = "bench_auth"
UNIT = "justice"
SOURCE = f"/units/{UNIT}"
TYPE = "supervision.task.progress_reported"
TOPIC = "supervision.events"


class Child:
    """A service process started by a benchmark, in its own session so it can be stopped whole."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOGS / f"{name}.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@contextlib.contextmanager
def children() -> Iterator[list[Child]]:
    """Stops every child on the way out: normal end, exception, Ctrl-C or SIGTERM."""
    started: list[Child] = []
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()
        signal.signal(signal.SIGTERM, previous)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(p) for p in task.read_text().split())
    return found


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` and its descendants, in MiB (VmRSS from /proc)."""
    return round(sum(_status_kb(p, "VmRSS") for p in _descendants(pid)) / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of `pid` and its descendants, in MiB."""
    return round(sum(_status_kb(p, "VmHWM") for p in _descendants(pid)) / 1024, 1)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float | None]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "p50": ms(percentile(seconds, 50)),
        "p95": ms(percentile(seconds, 95)),
        "p99": ms(percentile(seconds, 99)),
        "max": ms(max(seconds) if seconds else None),
    }


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_mb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_mb = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": mem_mb,
        "python": sys.version.split()[0],
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def wait_until(
    check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.25
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout:.0f}s waiting for {what} (logs in {LOGS})"
            )
        time.sleep(interval)


def http_status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def service_env(
    *, kafka: str, mongo: str, db: str = DB, auth_db: str = AUTH_DB, **extra: str
) -> dict[str, str]:
    """`SUPERVISION_*` settings pointing the service at the bench databases."""
    env = {
        "SUPERVISION_KAFKA_BOOTSTRAP": kafka,
        "SUPERVISION_MONGO_URL": mongo,
        "SUPERVISION_MONGO_DB": db,
        "SUPERVISION_AUTH_DB": auth_db,
    }
    env.update({f"SUPERVISION_{k.upper()}": v for k, v in extra.items()})
    return env


def plan_tasks(mongo: str, limit: int, timeout: float = 60.0) -> list[str]:
    """Up to `limit` ids of plan tasks the bench unit owns, once the service under test has loaded
    the plan into the bench database (its api and worker do at start); [] if none appear."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongo, serverSelectionTimeoutMS=5000)
    query = {"owner_units": UNIT, "kind": "task"}
    found: list[str] = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            ids = [
                str(doc["_id"])
                for doc in client[DB]["tasks"].find(query, {"_id": 1}).sort("_id", 1).limit(limit)
            ]
            settled = bool(ids) and ids == found  # the plan is loaded in batches: wait it out
            found = ids
            if len(found) >= limit or settled or time.monotonic() > deadline:
                return found
            time.sleep(1.0)
    finally:
        client.close()


def load_plan(mongo: str) -> bool:
    """Load the plan's tasks into the bench database as the supervision worker does at start
    (the ingest benchmark runs no worker); False if that was not possible."""
    import asyncio

    async def load() -> None:
        from pymongo import AsyncMongoClient

        from supervision.catalogue import load_plan as plan
        from supervision.store import load_plan_tasks

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            mongo, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        try:
            await load_plan_tasks(client[DB], plan())
        finally:
            await client.close()

    try:
        asyncio.run(load())
    except Exception as exc:  # the service's loader changed: fall back to synthetic task ids
        print(f"[bench] could not load the plan: {exc!r}", file=sys.stderr)
        return False
    return True


def synthetic_tasks(count: int) -> list[str]:
    """Task ids outside the plan (the worker creates them, owned by the bench unit)."""
    return [f"BENCH-T{n:03d}" for n in range(count)]


def drop_databases(mongo: str, *names: str) -> None:
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongo, serverSelectionTimeoutMS=5000)
    try:
        for name in names:
            client.drop_database(name)
    finally:
        client.close()


def metric_sums(text: str, *names: str) -> dict[str, float]:
    """Sum every sample of each named metric in a Prometheus text exposition."""
    sums = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in sums:
            with contextlib.suppress(ValueError, IndexError):
                sums[name] += float(line.rsplit(" ", 1)[1])
    return sums


async def _other_groups(kafka: str, topic: str) -> dict[str, str]:
    """Consumer groups (name -> state) that have committed offsets on `topic`."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka, request_timeout_ms=10000)
    await admin.start()
    found: dict[str, str] = {}
    try:
        for group, _ in await admin.list_consumer_groups():
            try:
                offsets = await admin.list_consumer_group_offsets(group)
                if not any(tp.topic == topic for tp in offsets):
                    continue
                described = (await admin.describe_consumer_groups([group]))[0].groups[0]
                found[group] = str(described[2]) if described[5] else "Empty"
            except Exception:  # a group this client cannot decode: report it as unknown
                found[group] = "unknown"
    finally:
        await admin.close()
    return dict(sorted(found.items()))


def refuse_if_shared(kafka: str, topic: str, allow: bool) -> dict[str, str]:
    """Other consumer groups of `topic` on a shared stack (the tests', `make run`'s).

    The benchmarks write thousands of real events to the topic. Every group with offsets on it
    projects them too — now if it is live, or when it next starts, since it resumes from its
    committed offsets (a test run would first have to work through the benchmark's backlog).
    Refuse unless `allow`.
    """
    import asyncio

    groups = asyncio.run(_other_groups(kafka, topic))
    if groups and not allow:
        listed = ", ".join(f"{g} ({state})" for g, state in groups.items())
        raise SystemExit(
            f"consumer groups follow {topic} on {kafka}: {listed}. They would all project the "
            "benchmark's events (now, or when they next start). Use the benchmarks' own stack "
            "(--stack bench, the default), or pass --allow-shared to write into this one anyway."
        )
    return groups


def _bench_stack_env() -> dict[str, str]:
    return {
        **os.environ,
        **BENCH_PORTS,
        "FAZHI_LOCAL": str(BENCH_LOCAL),
        "FAZHI_PYTHON": sys.executable,
    }


def bench_stack(command: str) -> int:
    """Run `scripts/stack.sh <command>` on the benchmarks' own stack (`.local/bench-stack`)."""
    if command == "start":
        links = {
            BENCH_LOCAL / "kafka" / "libs": ROOT / ".local" / "kafka" / "libs",
            BENCH_LOCAL / "bin" / "ferretdb": ROOT / ".local" / "bin" / "ferretdb",
        }
        for link, target in links.items():
            if not target.exists():
                raise SystemExit(f"{target} is missing: run `scripts/stack.sh install` first")
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(target)
    done = subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), command],
        cwd=ROOT,
        env=_bench_stack_env(),
        stdout=sys.stderr,
        check=False,
    )
    return done.returncode


def bench_stack_running() -> bool:
    done = subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "status"],
        cwd=ROOT,
        env=_bench_stack_env(),
        capture_output=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.count(b" listening ") == 3


@contextlib.contextmanager
def stack_for(args: Any, *, start: bool = True) -> Iterator[dict[str, Any]]:
    """The stack a benchmark runs on: the benchmarks' own (started if needed and `start`, and
    then stopped again unless --keep-stack) or, with --stack local, the shared local stack
    (guarded)."""
    if args.stack == "local":
        kafka, mongo = args.kafka or LOCAL_KAFKA, args.mongo or LOCAL_MONGO
        groups = refuse_if_shared(kafka, TOPIC, args.allow_shared)
        local = Path(os.environ.get("FAZHI_LOCAL", ROOT / ".local"))
        yield {
            "name": "local",
            "kafka": kafka,
            "mongo": mongo,
            "state_dir": str(local if local.is_absolute() else ROOT / local),
            "other_consumer_groups": groups,
        }
        return
    started = False
    if start and not bench_stack_running():
        print("[bench] starting the benchmarks' stack (.local/bench-stack)", file=sys.stderr)
        if bench_stack("start") != 0:
            raise SystemExit("the benchmarks' stack did not start; see .local/bench-stack/logs/")
        started = True
    try:
        yield {
            "name": "bench",
            "kafka": BENCH_KAFKA,
            "mongo": BENCH_MONGO,
            "state_dir": str(BENCH_LOCAL),
            "other_consumer_groups": {},
        }
    finally:
        if started and not args.keep_stack:
            bench_stack("stop")


def add_stack_arguments(parser: Any) -> None:
    parser.add_argument(
        "--stack",
        choices=["bench", "local"],
        default="bench",
        help="bench (default): the benchmarks' own Kafka 127.0.0.1:19092 and FerretDB :19017 "
        "(.local/bench-stack, started if needed); local: the shared stack (9092, 27017)",
    )
    parser.add_argument("--kafka", help="with --stack local: Kafka bootstrap (default 9092)")
    parser.add_argument("--mongo", help="with --stack local: MongoDB URL (default 27017)")
    parser.add_argument(
        "--allow-shared",
        action="store_true",
        help="with --stack local: run even though other consumer groups follow the topic",
    )
    parser.add_argument(
        "--keep-stack",
        action="store_true",
        help="leave the benchmarks' stack running if this run started it",
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its descendants, in seconds.

    For this process itself, only its own time: the services it started are its descendants.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid] if pid == os.getpid() else _descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def _machine_jiffies() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def stack_pids(state_dir: str | Path) -> dict[str, int]:
    """Kafka, FerretDB and PostgreSQL pids from the pid files `scripts/stack.sh` keeps in
    `state_dir`/run (PostgreSQL's is its postmaster: its CPU time includes every backend)."""
    pids: dict[str, int] = {}
    for name in ("kafka", "ferretdb", "postgres"):
        with contextlib.suppress(OSError, ValueError):
            pid = int((Path(state_dir) / "run" / f"{name}.pid").read_text().strip())
            if Path(f"/proc/{pid}").exists():
                pids[name] = pid
    return pids


class CpuWatch:
    """CPU seconds used by named processes, and how busy the whole machine was, over a span."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self._machine = _machine_jiffies()
        self._wall = time.monotonic()

    def result(self) -> dict[str, Any]:
        busy0, total0 = self._machine
        busy1, total1 = _machine_jiffies()
        out: dict[str, Any] = {
            f"{name}_cpu_s": round(cpu_seconds(pid) - self._start[name], 2)
            for name, pid in self.pids.items()
        }
        out["machine_busy_pct"] = (
            round(100 * (busy1 - busy0) / (total1 - total0), 1) if total1 > total0 else None
        )
        out["wall_s"] = round(time.monotonic() - self._wall, 2)
        return out


if __name__ == "__main__":
    # `python bench/common.py stack start|stop|status`: the benchmarks' own stack.
    if len(sys.argv) != 3 or sys.argv[1] != "stack":
        raise SystemExit("usage: python bench/common.py stack start|stop|status")
    sys.exit(bench_stack(sys.argv[2]))
