"""`make faults`: every fault scenario on the fault suite's own stack, one after the other.

Starts Kafka (one broker, or three with `--cluster 3`), PostgreSQL and FerretDB under
`.local/faults-stack` on ports of their own, the four apis and workers on 28001-28004 and
28011-28014, then per scenario posts a burst of events from several clients and injects one
fault half-way (see `faults/README.md`). Prints a table on stderr and the results as JSON on
stdout, saved as `faults/results/<UTC date>[-cluster3].json` (a scenario run again that day replaces its
earlier result). Exit status 1 when a scenario lost,
doubled or misplaced anything, or an api answered what its contract forbids.

    python -m faults.run --events 10000
    python -m faults.run --events 600 --scenarios worker-kill,kafka-kill
    python -m faults.run --cluster 3               # broker-kill, broker-term
    python -m faults.run --table faults/results/*.json
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faults.harness import (
    ROOT,
    SCENARIOS,
    Result,
    Scenario,
    Services,
    Stack,
    _kafka,
    demo_keys,
    plan_tasks,
    run_scenario,
    say,
)

RESULTS = ROOT / "faults" / "results"
BROKER_KILL = Scenario(
    "broker-kill",
    _kafka("kafka-kill", node=2),
    "one of three brokers kill -9, 10 s down, started again",
)
BROKER_TERM = Scenario(
    "broker-term",
    _kafka("kafka-stop", node=2),
    "one of three brokers TERM, 10 s down, started again",
)
CLUSTER_SCENARIOS = (BROKER_KILL, BROKER_TERM)


def scenarios(names: str, cluster: int) -> list[Scenario]:
    known = [*SCENARIOS, *CLUSTER_SCENARIOS] if cluster >= 3 else list(SCENARIOS)
    if not names:
        return list(CLUSTER_SCENARIOS) if cluster >= 3 else list(SCENARIOS)
    by_name = {s.name: s for s in known}
    unknown = [n for n in names.split(",") if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; known: {', '.join(by_name)}")
    return [by_name[n] for n in names.split(",")]


def table(results: list[dict[str, Any]], *, cluster: int = 1) -> str:
    """The results as a markdown table (README's `## Faults`)."""
    head = (
        "| scenario | events 202 | effects | lost | duplicated | apis ready s | recovery s "
        "| catch-up s | other answers |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        others = ", ".join(f"{n:,} × {k}" for k, n in sorted(r["answers"].items()) if k != "202")
        name = r["scenario"] + (f" ({cluster} brokers)" if cluster > 1 else "")
        rows.append(
            f"| {name} | {r['answered_202']:,} of {r['events']:,} | {r['effects']:,} | "
            f"{r['lost']} | {r['duplicated']} | {r['apis_ready_s'] or '–'} | {r['recovery_s']} | "
            f"{r['catch_up_s']} | {others or 'none'} |"
        )
    return "\n".join(rows)


async def main_async(args: argparse.Namespace, stack: Stack, services: Services) -> list[Result]:
    keys = await asyncio.to_thread(demo_keys, services)
    tasks = await asyncio.to_thread(plan_tasks, services)
    results = []
    for scenario in scenarios(args.scenarios, args.cluster):
        result = await run_scenario(
            scenario,
            services,
            keys,
            tasks,
            events=args.events,
            clients=args.clients,
        )
        status = "ok" if result.ok else "FAILED: " + "; ".join(result.failures)
        say(
            f"{result.scenario}: {result.answered_202} × 202, {result.effects} effects, "
            f"lost {result.lost}, duplicated {result.duplicated}, recovery {result.recovery_s} s, "
            f"catch-up {result.catch_up_s} s: {status}"
        )
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="per scenario (default 10000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--scenarios", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--cluster",
        type=int,
        default=int(os.environ.get("CLUSTER") or 1),
        choices=(1, 3),
        help="brokers (default $CLUSTER or 1); 3 runs the broker-kill and broker-term scenarios",
    )
    parser.add_argument(
        "--binaries",
        type=Path,
        default=Path(os.environ.get("FAZHI_STACK_BINARIES") or ROOT / ".local"),
        help="a .local holding kafka/libs and bin/ferretdb (default $FAZHI_STACK_BINARIES, else .local)",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write faults/results/")
    parser.add_argument(
        "--table", type=Path, nargs="+", help="only print saved results as a markdown table"
    )
    args = parser.parse_args()
    if args.table:
        for path in args.table:
            saved = json.loads(path.read_text(encoding="utf-8"))
            print(table(saved["results"], cluster=saved["brokers"]))
        return 0

    stack = Stack(
        ROOT / ".local" / f"faults-stack{'-cluster' if args.cluster > 1 else ''}",
        nodes=args.cluster,
    )
    stack.local.mkdir(parents=True, exist_ok=True)
    stack.link_binaries(args.binaries.resolve())
    services = Services(stack, ROOT / ".local" / "logs" / "faults")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = datetime.now(UTC)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", ".", ":!faults/results"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    try:
        say(f"fresh stack in {stack.local} ({args.cluster} broker(s) at {stack.bootstrap})")
        stack.reset()
        stack.start()
        services.drop_databases()
        services.start_all()
        results = asyncio.run(main_async(args, stack, services))
    finally:
        services.stop_all()
        stack.stop()

    run = {
        "date": started.isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": bool(dirty),
        "events_per_scenario": args.events,
        "clients": args.clients,
        "nproc": len(os.sched_getaffinity(0)),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    report = {
        "brokers": args.cluster,
        "results": [{**dataclasses.asdict(r), "run": run} for r in results],
    }
    report["ok"] = all(r.ok for r in results)
    print(table(report["results"], cluster=args.cluster), file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if not args.no_save:
        save(report, started.date().isoformat(), args.cluster)
    return 0 if report["ok"] else 1


def save(report: dict[str, Any], day: str, cluster: int) -> None:
    """Into the day's file: a scenario run again replaces its earlier result of that day."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{day}{f'-cluster{cluster}' if cluster > 1 else ''}.json"
    kept: list[dict[str, Any]] = []
    if out.exists():
        names = {r["scenario"] for r in report["results"]}
        earlier = json.loads(out.read_text(encoding="utf-8")).get("results", [])
        kept = [r for r in earlier if r["scenario"] not in names]
    results = kept + report["results"]
    merged = {"brokers": cluster, "results": results, "ok": all(not r["failures"] for r in results)}
    out.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    say(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
