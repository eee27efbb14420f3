"""Starts the four apis and workers as real processes against the local Kafka and FerretDB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "logs" / "tests"
KAFKA = os.environ.get("FAZHI_TEST_KAFKA", "127.0.0.1:9092")
MONGO = os.environ.get("FAZHI_TEST_MONGO", "mongodb://127.0.0.1:27017")
AUTH_DB = "test_auth"
CST = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    prefix: str
    api_port: int
    worker_port: int
    db: str
    topic: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.worker_port}"

    def env(self) -> dict[str, str]:
        return {
            f"{self.prefix}_KAFKA_BOOTSTRAP": KAFKA,
            f"{self.prefix}_MONGO_URL": MONGO,
            f"{self.prefix}_MONGO_DB": self.db,
            f"{self.prefix}_AUTH_DB": AUTH_DB,
            f"{self.prefix}_WORKER_WEB_PORT": str(self.worker_port),
            f"{self.prefix}_WORKER_GROUP": f"{self.package}-worker-test",
            f"{self.prefix}_PUBLISH_TIMEOUT_S": "5",
            f"{self.prefix}_CONSUMER_RETRY_BACKOFF_S": "0.05",
        }


SERVICES = {
    s.name: s
    for s in (
        Service(
            "supervision",
            "supervision",
            "SUPERVISION",
            18001,
            18011,
            "test_supervision",
            "supervision.events",
        ),
        Service(
            "petition-mediation",
            "petition_mediation",
            "PETITION_MEDIATION",
            18002,
            18012,
            "test_mediation",
            "mediation.events",
        ),
        Service(
            "emergency",
            "emergency",
            "EMERGENCY",
            18003,
            18013,
            "test_emergency",
            "emergency.events",
        ),
        Service(
            "open-government",
            "open_government",
            "OPEN_GOVERNMENT",
            18004,
            18014,
            "test_opengov",
            "opengov.events",
        ),
    )
}


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for service in SERVICES.values():
        env.update(service.env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Platform:
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, argv: list[str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        log = (LOGS / f"{name}.log").open("ab")
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
                "--no-access-log",
            ],
        )

    def start_worker(self, service: Service) -> None:
        self._spawn(f"{service.name}-worker", [sys.executable, "-m", f"{service.package}.worker"])

    def kill_worker(self, service: Service) -> None:
        proc = self.procs.pop(f"{service.name}-worker")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def start_all(self) -> None:
        for service in SERVICES.values():
            self.start_api(service)
            self.start_worker(service)
        for service in SERVICES.values():
            wait_until(
                lambda s=service: _status(f"{s.url}/readyz") == 200,
                timeout=90,
                what=f"{service.name} api ready",
            )
            wait_until(
                lambda s=service: _status(f"{s.worker_url}/metrics") == 200,
                timeout=90,
                what=f"{service.name} worker up",
            )

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
