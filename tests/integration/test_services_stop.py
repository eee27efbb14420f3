"""`make stop` stops `make run`'s apis and workers too: a platform left running in another
terminal is not restarted, process by process, against a stack that has gone away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ROOT, wait_until

STATE = ROOT / ".local" / "run" / "supervise.json"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _services_stop() -> str:
    done = subprocess.run(
        ["scripts/stack.sh", "services-stop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout + done.stderr


@pytest.fixture
def no_make_run() -> Iterator[None]:
    if STATE.exists():
        supervisor = json.loads(STATE.read_text()).get("supervisor")
        assert not (supervisor and _alive(supervisor)), (
            f"make run is running from this checkout (supervisor pid {supervisor}): stop it first"
        )
    yield
    STATE.unlink(missing_ok=True)


def test_stop_ends_the_supervisor_and_everything_it_started(
    no_make_run: None, tmp_path: Path
) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("api: sleep 600\nworker: sleep 600\n")
    supervisor = subprocess.Popen(
        [sys.executable, "scripts/supervise.py", str(procfile)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        state = wait_until(
            lambda: (
                STATE.exists() and len((s := json.loads(STATE.read_text()))["processes"]) == 2 and s
            ),
            timeout=30,
            what="the supervisor's state file with both processes",
        )
        children = [p["pid"] for p in state["processes"].values()]
        assert all(_alive(pid) for pid in children)

        said = _services_stop()

        assert supervisor.wait(30) == 0
        assert not any(_alive(pid) for pid in children), said
        assert f"supervisor pid {supervisor.pid}" in said
        assert not STATE.exists()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait(10)
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_stale_state_file_stops_nothing_else(no_make_run: None) -> None:
    # The pid of a supervisor long gone, now another program's: left alone.
    other = subprocess.Popen(["sleep", "600"])
    try:
        STATE.parent.mkdir(parents=True, exist_ok=True)
        STATE.write_text(json.dumps({"supervisor": other.pid, "processes": {}}))
        said = _services_stop()
        assert _alive(other.pid), said
        assert "stopping" not in said
        assert not STATE.exists()
    finally:
        other.kill()
        other.wait(10)
