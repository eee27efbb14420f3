"""`make run` as a user runs it: the platform comes up, survives a crashed worker (restarted,
and it catches up on what was posted meanwhile), and stops on Ctrl-C without taking down the
Kafka and store it did not start."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fazhi import topology
from tests.support.kafka import skip_to_end
from tests.support.processes import ROOT, progress, structured, wait_until

pytestmark = pytest.mark.e2e

STATE = ROOT / ".local" / "run" / "supervise.json"
API = {s.name: f"http://127.0.0.1:{s.api_port}" for s in topology.SERVICES}
WORKER_METRICS = f"http://127.0.0.1:{topology.SUPERVISION.worker_port}/metrics"


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _processes() -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return {}
    processes: dict[str, Any] = state["processes"]
    return processes


def _stack_running() -> bool:
    status = subprocess.run(
        ["scripts/stack.sh", "status"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return status.returncode == 0


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    assert not any(_ready(url) for url in API.values()), "something already serves 8001-8004"
    log = tmp_path_factory.mktemp("make-run") / "make-run.log"
    # The demo workers start from now: the shared topics hold every event the tests have
    # posted so far (owned by their own units and databases), which the test does not wait on.
    topics = [s.topic for s in topology.SERVICES]
    for service in topology.SERVICES:
        asyncio.run(skip_to_end(f"{service.name}-worker", topics))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "FAZHI_SKIP_APT": "1"},
        )
    try:
        wait_until(
            lambda: all(_ready(url) for url in API.values()),
            timeout=300,
            interval=1.0,
            what=f"make run ready on 8001-8004 (log: {log})",
        )
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def test_a_crashed_worker_is_restarted_and_catches_up_while_the_rest_serves(
    make_run: subprocess.Popen[bytes],
) -> None:
    key = json.loads((ROOT / ".local" / "demo-keys.json").read_text())["units"]["justice"]
    worker = _processes()["supervision_worker"]
    os.kill(worker["pid"], signal.SIGKILL)

    task_id = f"RUN-{uuid.uuid4().hex[:8]}"
    posted = progress("justice", task_id, 35)
    with httpx.Client(base_url=API["supervision"], timeout=30) as http:
        headers = {"authorization": f"Bearer {key}"}
        body = structured(posted)
        response = http.post(
            "/v1/events", content=body["content"], headers={**body["headers"], **headers}
        )
        assert response.status_code == 202, response.text
        assert all(_ready(url) for url in API.values()), "the other processes stopped serving"

        restarted = wait_until(
            lambda: (
                (p := _processes().get("supervision_worker")) and p["pid"] != worker["pid"] and p
            ),
            timeout=60,
            what="the supervision worker restarted",
        )
        assert restarted["restarts"] == worker["restarts"] + 1
        doc = wait_until(
            lambda: (
                (r := http.get(f"/v1/tasks/{task_id}", headers=headers)).status_code == 200
                and r.json()
            ),
            timeout=180,
            interval=1.0,
            what="the event posted while the worker was down projected",
        )
    assert doc["progress_pct"] == 35
    assert make_run.poll() is None


def _readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(after, 1)[1]
    return text.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_tour_runs_as_written_and_make_run_prints_the_pages_with_their_keys(
    make_run: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    script = tmp_path / "try.sh"
    script.write_text("set -euo pipefail\n" + _readme_block("Try it with `make run` up"))
    done = subprocess.run(
        ["bash", str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"accepted":["demo-1"]' in done.stdout.replace(" ", "")
    assert '"task_id":"M18-T1"' in done.stdout.replace(" ", "")
    assert "supervision_events_ingested" in done.stdout
    keys = json.loads((ROOT / ".local" / "demo-keys.json").read_text())
    printed = (ROOT / ".local" / "run" / "pages.txt").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8003/console" in printed
    assert keys["roles"]["staff"]["key"] in printed
    assert keys["roles"]["supervisor"]["key"] in printed


def test_ctrl_c_stops_the_platform_but_not_a_stack_it_did_not_start(
    make_run: subprocess.Popen[bytes],
) -> None:
    stack_before = _stack_running()
    pids = [p["pid"] for p in _processes().values()]
    os.killpg(make_run.pid, signal.SIGINT)
    make_run.wait(60)
    time.sleep(1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids), "a process outlived make run"
    assert not any(_ready(url) for url in API.values())
    assert _stack_running() == stack_before
