"""Run the processes of a Procfile and keep them running: a process that exits is started
again after a backoff (1 s, doubling up to 30 s; back to 1 s once it has run a minute), while
the others keep serving. Ctrl-C (SIGINT) or SIGTERM stops them all.

Output lines are prefixed with the process name. The pid of each process is kept in a JSON
file (`--state`, default `.local/run/supervise.json`) so that operators and tests can find them.

    python scripts/supervise.py Procfile
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0
STOP_GRACE_S = 15.0


@dataclass
class Proc:
    name: str
    command: str
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff_s: float = BACKOFF_FIRST_S
    pumps: list[asyncio.Task[None]] = field(default_factory=list)


def read_procfile(path: Path) -> list[Proc]:
    procs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise SystemExit(f"{path}: not 'name: command': {line!r}")
        procs.append(Proc(name.strip(), command.strip()))
    return procs


def say(name: str, text: str, width: int) -> None:
    stamp = time.strftime("%H:%M:%S")
    sys.stdout.write(f"{stamp} {name:<{width}} | {text}\n")
    sys.stdout.flush()


class Supervisor:
    def __init__(self, procs: list[Proc], state: Path) -> None:
        self.procs = procs
        self.state = state
        self.stopping = asyncio.Event()
        self.width = max(len(p.name) for p in procs) if procs else 8

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        watchers = [asyncio.create_task(self._keep(proc)) for proc in self.procs]
        await self.stopping.wait()
        say("supervise", "stopping every process", self.width)
        await self._stop_all()
        for task in watchers:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*watchers, return_exceptions=True)
        self.state.unlink(missing_ok=True)
        return 0

    async def _keep(self, proc: Proc) -> None:
        while not self.stopping.is_set():
            await self._start(proc)
            assert proc.process is not None
            code = await proc.process.wait()
            for pump in proc.pumps:
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
            if self.stopping.is_set():
                return
            ran = time.monotonic() - proc.started_at
            if ran >= HEALTHY_AFTER_S:
                proc.backoff_s = BACKOFF_FIRST_S
            say(
                proc.name,
                f"exited with code {code} after {ran:.0f} s; restarting in {proc.backoff_s:.0f} s",
                self.width,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), proc.backoff_s)
            proc.backoff_s = min(proc.backoff_s * 2, BACKOFF_MAX_S)
            proc.restarts += 1

    async def _start(self, proc: Proc) -> None:
        proc.process = await asyncio.create_subprocess_shell(
            f"exec {proc.command}",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        proc.started_at = time.monotonic()
        proc.pumps = [asyncio.create_task(self._pump(proc, proc.process))]
        what = "started" if proc.restarts == 0 else f"restarted ({proc.restarts})"
        say(proc.name, f"{what} with pid {proc.process.pid}", self.width)
        self._write_state()

    async def _pump(self, proc: Proc, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            say(proc.name, raw.decode(errors="replace").rstrip("\n"), self.width)

    def _write_state(self) -> None:
        pids = {
            p.name: {"pid": p.process.pid, "restarts": p.restarts}
            for p in self.procs
            if p.process is not None and p.process.returncode is None
        }
        self.state.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor": os.getpid(), "processes": pids}, indent=2))
        tmp.replace(self.state)

    async def _stop_all(self) -> None:
        running = [p.process for p in self.procs if p.process and p.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running)), STOP_GRACE_S)
        except TimeoutError:
            for process in running:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
            await asyncio.gather(*(p.wait() for p in running))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--state", type=Path, default=Path(".local/run/supervise.json"))
    args = parser.parse_args()
    procs = read_procfile(args.procfile)
    if not procs:
        raise SystemExit(f"{args.procfile}: no processes")
    return asyncio.run(Supervisor(procs, args.state).run())


if __name__ == "__main__":
    sys.exit(main())
