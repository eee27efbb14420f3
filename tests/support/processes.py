"""Starts the four apis and workers as real processes against the local Kafka and FerretDB."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fazhi import topology
from fazhi.contracts.envelope import CHINA_TZ

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs" / "tests"
KAFKA = os.environ.get("FAZHI_TEST_KAFKA", "127.0.0.1:9092")
MONGO = os.environ.get("FAZHI_TEST_MONGO", "mongodb://127.0.0.1:27017")
# Databases the test services use (dropped when a session starts): `test_supervision`, ...
DB_PREFIX = os.environ.get("FAZHI_TEST_DB_PREFIX", "test_")
AUTH_DB = f"{DB_PREFIX}{topology.AUTH_DATABASE}"
CST = CHINA_TZ
# How every api server runs, as in the Procfile and the image's launcher.
UVICORN_FLAGS = ("--no-access-log", "--loop", "uvloop", "--http", "httptools")


@contextlib.asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A database of the test stack's store of its own (`<prefix>_<random>`), dropped after."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    prefix: str
    api_port: int
    worker_port: int
    db: str
    topic: str
    side_workers: tuple[topology.SideWorker, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.worker_port}"

    def side_url(self, side: topology.SideWorker) -> str:
        return f"http://127.0.0.1:{side.test_port}"

    @property
    def worker_group(self) -> str:
        """The test workers' consumer group (`make run`'s workers use `<package>-worker`)."""
        return f"{self.package}-worker-test"

    def env(self) -> dict[str, str]:
        return {
            f"{self.prefix}_KAFKA_BOOTSTRAP": KAFKA,
            f"{self.prefix}_MONGO_URL": MONGO,
            f"{self.prefix}_MONGO_DB": self.db,
            f"{self.prefix}_AUTH_DB": AUTH_DB,
            f"{self.prefix}_WORKER_WEB_PORT": str(self.worker_port),
            f"{self.prefix}_WORKER_GROUP": self.worker_group,
            f"{self.prefix}_PUBLISH_TIMEOUT_S": "5",
            f"{self.prefix}_CONSUMER_RETRY_BACKOFF_S": "0.05",
            # Timers (overdue clocks, loaded schedules) tick often enough for a test to see.
            f"{self.prefix}_TIMER_INTERVAL_S": "2",
            # A killed worker's partitions move to its successor within seconds, not 30 s.
            f"{self.prefix}_SESSION_TIMEOUT_S": "10",
            # Red alerts are escalated after 3 s unacknowledged, not 5 minutes.
            f"{self.prefix}_ACK_WINDOW_RED_S": "3",
            # The deadline watcher looks every second, so its catch-up shows within the tests.
            f"{self.prefix}_WATCH_INTERVAL_S": "1",
            # Deliveries: to the tests' own receivers on 127.0.0.1, retried after 1-3 s (13 s in
            # all, not 27 h), due retries looked for twice a second.
            f"{self.prefix}_WEBHOOK_ALLOW_PRIVATE": "true",
            f"{self.prefix}_DELIVERY_RETRIES": DELIVERY_RETRIES,
            f"{self.prefix}_DELIVERY_TIMEOUT_S": "3",
            f"{self.prefix}_RETRY_SCAN_S": "0.5",
            f"{self.prefix}_SUBSCRIPTION_CACHE_S": "0.5",
            f"{self.prefix}_DELIVERIES_GROUP": DELIVERIES_GROUP,
            **{
                f"{self.prefix}_{side.name.upper()}_WEB_PORT": str(side.test_port)
                for side in self.side_workers
            },
        }


DELIVERY_RETRIES = "1,1,2,2,3,4"
"""The tests' retry schedule of deliveries: seven attempts over 13 s."""
DELIVERIES_GROUP = "supervision-deliveries-test"

# The test processes listen on their own ports and use their own databases (see fazhi.topology).
SERVICES = {
    t.name: Service(
        name=t.name,
        package=t.package,
        prefix=t.env_prefix.removesuffix("_"),
        api_port=t.test_api_port,
        worker_port=t.test_worker_port,
        db=f"{DB_PREFIX}{t.database}",
        topic=t.topic,
        side_workers=t.side_workers,
    )
    for t in topology.SERVICES
}


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for service in SERVICES.values():
        env.update(service.env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_taken(port: int) -> bool:
    """Whether a server could not bind 127.0.0.1:`port` now (as uvicorn and aiohttp bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def log_path(name: str) -> Path:
    return LOGS / f"{name}.log"


def log_tail(name: str, lines: int = 40) -> str:
    """The last lines `name` wrote since it was last started."""
    try:
        text = log_path(name).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    run = text.rsplit("\n=== ", 1)[-1]
    return "\n".join(run.splitlines()[-lines:])


@dataclass
class ServiceProcesses:
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str], *, port: int) -> None:
        # A server already on the port (another test session, `make run` on test ports) would
        # answer the readiness probe in place of ours: refuse to start instead.
        if port_taken(port):
            raise AssertionError(
                f"cannot start {name}: 127.0.0.1:{port} is already in use "
                "(another test session running? see `ps aux | grep 180`)"
            )
        LOGS.mkdir(parents=True, exist_ok=True)
        with log_path(name).open("ab") as log:
            log.write(f"\n=== {datetime.now(CST).isoformat()} start: {' '.join(argv)}\n".encode())
            log.flush()
            self.procs[name] = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=_environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_api(self, service: Service) -> None:
        self._spawn(
            f"{service.name}-api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{service.package}.api:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(service.api_port),
                *UVICORN_FLAGS,
            ],
            port=service.api_port,
        )

    def start_worker(self, service: Service) -> None:
        self._spawn(
            f"{service.name}-worker",
            [sys.executable, "-m", f"{service.package}.worker"],
            port=service.worker_port,
        )

    def start_side_worker(self, service: Service, side: topology.SideWorker) -> None:
        self._spawn(
            f"{service.name}-{side.name}",
            [sys.executable, "-m", side.module],
            port=side.test_port,
        )

    def kill_worker(self, service: Service) -> None:
        proc = self.procs.pop(f"{service.name}-worker")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    @staticmethod
    def require_free_ports() -> None:
        """Fail at once if another session holds the test ports (its databases are in use too)."""
        taken = [
            port
            for service in SERVICES.values()
            for port in (
                service.api_port,
                service.worker_port,
                *(side.test_port for side in service.side_workers),
            )
            if port_taken(port)
        ]
        if taken:
            raise AssertionError(
                f"test ports already in use: {taken} (another test session running?); "
                "wait until it ends"
            )

    def start_all(self) -> None:
        self.require_free_ports()
        for service in SERVICES.values():
            self.start_api(service)
            self.start_worker(service)
            for side in service.side_workers:
                self.start_side_worker(service, side)
        for service in SERVICES.values():
            for side in service.side_workers:
                self.wait_ready(
                    f"{service.name}-{side.name}",
                    f"{service.side_url(side)}/metrics",
                    what=f"{service.name} {side.name} up",
                )
            self.wait_ready(
                f"{service.name}-api", f"{service.url}/readyz", what=f"{service.name} api ready"
            )
            self.wait_ready(
                f"{service.name}-worker",
                f"{service.worker_url}/readyz",
                what=f"{service.name} worker consuming",
            )

    def wait_ready(self, name: str, url: str, *, what: str, timeout: float = 90) -> None:
        """Wait until `url` answers 200, failing at once if the process `name` has exited
        (say, because another test session holds its port)."""
        proc = self.procs[name]

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(
                    f"{name} exited with status {proc.returncode} while waiting for: {what}\n"
                    f"--- last lines of {log_path(name)} ---\n{log_tail(name)}"
                )
            return _status(url) == 200

        wait_until(ready, timeout=timeout, what=what)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


def _status(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def sample_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` carrying `labels` in a Prometheus text exposition
    (0 if there are none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def worker_consumed(service: Service, **labels: str) -> float:
    """The worker's `<package>_events_consumed_total` with `labels`, from its own `/metrics`
    (0 while it does not answer): progress seen without querying MongoDB."""
    try:
        text = httpx.get(f"{service.worker_url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    return sample_value(text, f"{service.package}_events_consumed_total", **labels)


def wait_until(check: Any, *, timeout: float, what: str, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for: {what} (logs in {LOGS})"
            )
        time.sleep(interval)


def stack(*args: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "stack.sh"), *args], check=True, cwd=ROOT)


def event(
    type_: str, unit: str, subject: str, data: dict[str, Any], **attrs: Any
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": attrs.pop("id", str(uuid.uuid4())),
        "source": attrs.pop("source", f"/units/{unit}"),
        "type": type_,
        "subject": subject,
        "time": datetime.now(CST).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
        **attrs,
    }


def progress(unit: str, task_id: str, pct: int = 40, **attrs: Any) -> dict[str, Any]:
    return event(
        "supervision.task.progress_reported",
        unit,
        task_id,
        {
            "task_id": task_id,
            "unit": unit,
            "progress_pct": pct,
            "note": "进展顺利",
            "reported_at": datetime.now(CST).isoformat(),
        },
        **attrs,
    )


def structured(body: Any) -> dict[str, Any]:
    return {
        "content": json.dumps(body, ensure_ascii=False).encode(),
        "headers": {"content-type": "application/cloudevents+json"},
    }


def task_history(mongo: Any, service: Service, task_id: str) -> list[str]:
    """The ids of the events in a task's timeline, oldest first."""
    rows = mongo[service.db]["task_history"].find({"task_id": task_id})
    return [row["event_id"] for row in sorted(rows, key=lambda row: row["seq"])]
