"""What the benchmarks share: their own stack, child processes, CPU and RSS from /proc, the
events they send, and the figures they report.

Not a test helper: the benchmarks print JSON and assert nothing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fazhi.contracts import supervision as su
from fazhi.contracts import type_of

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".local" / "logs" / "bench"
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
TYPE = type_of(su.TaskProgressReported)
TOPIC = "supervision.events"
LEDGER = "processed_events"
NOTE = "基准测试：进展顺利，按计划推进"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- figures


def figure(
    name: str,
    value: float | None,
    unit: str,
    *,
    reference: str,
    reference_value: float | None,
    target: str | None = None,
    met: bool | None = None,
    lower_is_better: bool = False,
) -> dict[str, Any]:
    """One reported number beside its reference measured in the same run, and their ratio.

    `target` and `met` are information only: nothing is asserted.
    """
    ratio = None
    if value is not None and reference_value:
        ratio = round(value / reference_value, 3)
    return {
        "figure": name,
        "value": value,
        "unit": unit,
        "reference": reference,
        "reference_value": reference_value,
        "ratio": ratio,
        "lower_is_better": lower_is_better,
        "target": target,
        "met": met,
    }


def at_least(value: float | None, minimum: float) -> bool | None:
    return None if value is None else value >= minimum


def at_most(value: float | None, maximum: float) -> bool | None:
    return None if value is None else value <= maximum


def both(*checks: bool | None) -> bool | None:
    return None if None in checks else all(checks)


def random_letters(n: int) -> str:
    """A random part of the ids a benchmark posts, letters only: a random hex part is now and
    then all digits, and an id that reads as a phone or ID number is refused (422), as it must
    be, or searched in full (`fazhi.web.ingest.personal_id`), so the figure would be a lottery."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def rate(count: float, seconds: float | None) -> float | None:
    """count / seconds, to 0.1 (to 0.01 under 10)."""
    if not seconds:
        return None
    value = count / seconds
    return round(value, 1) if value >= 10 else round(value, 2)


def median_ms(seconds: Sequence[float]) -> float | None:
    return round(statistics.median(seconds) * 1000, 2) if seconds else None


def percentile_ms(seconds: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile in ms; None for no values."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return round(ordered[rank - 1] * 1000, 2)


# ---------------------------------------------------------------- events


def progress_event(event_id: str, task_id: str, n: int) -> Any:
    """A `supervision.task.progress_reported` CloudEvent of the bench unit, built with the
    platform's own envelope (`fazhi.contracts.envelope`)."""
    from fazhi.contracts.envelope import CHINA_TZ, new_event

    now = datetime.now(CHINA_TZ)
    return new_event(
        type=TYPE,
        source=SOURCE,
        subject=task_id,
        id=event_id,
        time=now,
        data={
            "task_id": task_id,
            "unit": UNIT,
            "progress_pct": n % 101,
            "note": NOTE,
            "reported_at": now.isoformat(),
        },
    )


def kafka_record(event: Any) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(value, key, headers) exactly as the api's publisher sends an event."""
    from fazhi.contracts.envelope import kafka_headers

    return event.to_bytes(), event.subject.encode(), kafka_headers(event)


def producer(kafka: str) -> Any:
    """An aiokafka producer configured as the api's publisher (`fazhi.bus.publisher`): idempotent,
    `acks=all`, 2 ms linger."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(
        bootstrap_servers=kafka, acks="all", enable_idempotence=True, linger_ms=2
    )


# ---------------------------------------------------------------- child processes


class Child:
    """A process started by a benchmark, in its own session so it can be stopped whole."""

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

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is not None:
            return
        self.signal(signal.SIGCONT)  # a paused child could not act on SIGTERM
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
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


def wait_http_ok(child: Child, url: str, timeout: float = 90) -> None:
    def ready() -> bool:
        if not child.alive():
            raise SystemExit(f"{child.name} exited early; see {child.log_path}")
        return http_status(url) == 200

    wait_until(ready, timeout=timeout, what=f"{child.name} at {url}")


def service_env(*, db: str = DB, auth_db: str = AUTH_DB, **extra: str) -> dict[str, str]:
    """`SUPERVISION_*` settings pointing a service at the bench stack and databases."""
    env = {
        "SUPERVISION_KAFKA_BOOTSTRAP": BENCH_KAFKA,
        "SUPERVISION_MONGO_URL": BENCH_MONGO,
        "SUPERVISION_MONGO_DB": db,
        "SUPERVISION_AUTH_DB": auth_db,
    }
    env.update({f"SUPERVISION_{k.upper()}": v for k, v in extra.items()})
    return env


def procfile_uvicorn(process: str = "supervision_api") -> tuple[str, list[str]]:
    """The app and the uvicorn flags of a `Procfile` line, less `--host` and `--port`, so the
    benchmarks run the api (and the echo app beside it) as the Procfile does."""
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if name.strip() != process:
            continue
        words = shlex.split(command)
        if words[:1] != ["uvicorn"] or len(words) < 2:
            break
        app, rest, flags = words[1], iter(words[2:]), []
        for word in rest:
            if word in ("--host", "--port"):
                next(rest, None)
            elif not word.startswith(("--host=", "--port=")):
                flags.append(word)
        return app, flags
    raise SystemExit(f"no `{process}: uvicorn ...` line in the Procfile")


# ---------------------------------------------------------------- CPU and memory


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
    """Resident set size of `pid` and its descendants, in MiB (VmRSS)."""
    return round(sum(_status_kb(p, "VmRSS") for p in _descendants(pid)) / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of `pid` and its descendants, in MiB."""
    return round(sum(_status_kb(p, "VmHWM") for p in _descendants(pid)) / 1024, 1)


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
        "cpu_model": model,
        "mem_total_mb": mem_mb,
        "python": sys.version.split()[0],
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------- the benchmarks' stack


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
def bench_stack_up() -> Iterator[None]:
    """The benchmarks' stack, started if it is not running (and then stopped again)."""
    started = False
    if not bench_stack_running():
        say("starting the benchmarks' stack (.local/bench-stack)")
        if bench_stack("start") != 0:
            raise SystemExit("the benchmarks' stack did not start; see .local/bench-stack/logs/")
        started = True
    try:
        yield
    finally:
        if started:
            bench_stack("stop")


def stack_pids() -> dict[str, int]:
    """The bench stack's servers by name (Kafka, FerretDB, PostgreSQL: every pid file
    `scripts/stack.sh` keeps; PostgreSQL's is its postmaster, whose CPU time includes its
    backends)."""
    pids: dict[str, int] = {}
    for pidfile in sorted((BENCH_LOCAL / "run").glob("*.pid")):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            if Path(f"/proc/{pid}").exists():
                pids[pidfile.stem] = pid
    return pids


def store_backend() -> str:
    """FerretDB's backend on the bench stack (`--handler=` of its command line)."""
    pid = stack_pids().get("ferretdb")
    with contextlib.suppress(OSError):
        if pid:
            for arg in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                if arg.startswith(b"--handler="):
                    return f"ferretdb-{arg.split(b'=', 1)[1].decode()}"
    return "unknown"


def analyze() -> str:
    """Refresh the store's planner statistics after a bulk load (`scripts/stack.sh analyze`,
    where the stack has that command); says what was done."""
    stack_sh = [str(ROOT / "scripts" / "stack.sh")]
    env = _bench_stack_env()
    usage = subprocess.run([*stack_sh, "help"], env=env, capture_output=True, check=False)
    if b"analyze" not in usage.stdout:
        return "none: scripts/stack.sh has no analyze command"
    done = subprocess.run([*stack_sh, "analyze"], env=env, capture_output=True, check=False)
    return "scripts/stack.sh analyze" if done.returncode == 0 else "scripts/stack.sh analyze failed"


# ---------------------------------------------------------------- databases


def mongo_client() -> Any:
    from pymongo import MongoClient

    return MongoClient(BENCH_MONGO, serverSelectionTimeoutMS=5000, tz_aware=True)


def drop_databases(*names: str) -> None:
    client = mongo_client()
    try:
        for name in names:
            client.drop_database(name)
    finally:
        client.close()


def load_plan(db: str = DB) -> None:
    """Load the plan's tasks into `db` as the supervision worker does at start."""
    import asyncio

    from pymongo import AsyncMongoClient

    from fazhi.contracts.envelope import CHINA_TZ
    from supervision.plan import load_plan as plan
    from supervision.store import load_plan_tasks

    async def load() -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            BENCH_MONGO, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        try:
            await load_plan_tasks(client[db], plan(), datetime.now(CHINA_TZ).date())
        finally:
            await client.close()

    asyncio.run(load())


def plan_tasks(limit: int, db: str = DB) -> list[str]:
    """Up to `limit` ids of plan tasks in `db` that the bench unit owns."""
    client = mongo_client()
    try:
        query = {"owner_units": UNIT, "kind": "task"}
        cursor = client[db]["tasks"].find(query, {"_id": 1}).sort("_id", 1).limit(limit)
        return [str(doc["_id"]) for doc in cursor]
    finally:
        client.close()


if __name__ == "__main__":
    # `python bench/common.py stack start|stop|status`: the benchmarks' own stack.
    if len(sys.argv) != 3 or sys.argv[1] != "stack":
        raise SystemExit("usage: python bench/common.py stack start|stop|status")
    sys.exit(bench_stack(sys.argv[2]))
