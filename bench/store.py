"""Store benchmark: one `find_one({"_id": ...})` and one `update_one({"_id": ...}, {"$set": ...})`
on the bench stack's store, by collection size.

It grows one collection of task-like documents (`insert_many` in batches of 1000) through
`--sizes`, refreshes the store's statistics after each step (`scripts/stack.sh analyze`, where
the stack has it), and times up to `--samples` lookups and updates of random existing `_id`s,
one at a time (each bounded by `--seconds`). Growing is bounded by `--grow-seconds` in all; a
size not reached is reported as such. Each size's figures are compared with the first size's.
Prints one JSON object on stdout; asserts nothing.

    .local/venv/bin/python bench/store.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import (
    UNIT,
    analyze,
    bench_stack_up,
    drop_databases,
    figure,
    machine,
    median_ms,
    mongo_client,
    percentile_ms,
    say,
    store_backend,
)

STORE_DB = "bench_store"
BATCH = 1000


def document(n: int, now: datetime) -> dict[str, Any]:
    return {
        "_id": f"BENCH-S{n:07d}",
        "kind": "task",
        "title": "基准测试",
        "summary": f"基准测试任务 {n}",
        "owner_units": [UNIT],
        "status": "in_progress",
        "progress_pct": n % 101,
        "updated_at": now,
    }


def timed(operation: Any, count: int, seconds: float) -> list[float]:
    took: list[float] = []
    deadline = time.monotonic() + seconds
    while len(took) < count and time.monotonic() < deadline:
        started = time.perf_counter()
        operation()
        took.append(time.perf_counter() - started)
    return took


def measure(collection: Any, size: int, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(size)

    def find() -> None:
        collection.find_one({"_id": f"BENCH-S{rng.randrange(size):07d}"})

    def update() -> None:
        doc_id = f"BENCH-S{rng.randrange(size):07d}"
        collection.update_one({"_id": doc_id}, {"$set": {"progress_pct": rng.randrange(101)}})

    finds = timed(find, args.samples, args.seconds)
    updates = timed(update, args.samples, args.seconds)
    return {
        "find_one_ms": {"median": median_ms(finds), "p95": percentile_ms(finds, 95)},
        "update_one_ms": {"median": median_ms(updates), "p95": percentile_ms(updates, 95)},
        "samples": {"find_one": len(finds), "update_one": len(updates)},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    drop_databases(STORE_DB)
    client = mongo_client()
    collection = client[STORE_DB]["docs"]
    now = datetime.now(UTC)
    results: dict[str, Any] = {}
    stored, grow_deadline = 0, time.monotonic() + args.grow_seconds
    try:
        for size in args.sizes:
            began = time.monotonic()
            while stored < size and time.monotonic() < grow_deadline:
                end = min(size, stored + BATCH)
                collection.insert_many([document(n, now) for n in range(stored, end)])
                stored = end
            if stored < size:
                say(f"store: stopped growing at {stored} documents (--grow-seconds)")
                results[str(size)] = {"reached": False, "documents": stored}
                break
            grown_s = round(time.monotonic() - began, 1)
            analyzed = analyze()
            results[str(size)] = {
                "reached": True,
                "grow_s": grown_s,
                "analyze": analyzed,
                **measure(collection, size, args),
            }
            say(
                f"store at {size}: find_one {results[str(size)]['find_one_ms']['median']} ms, "
                f"update_one {results[str(size)]['update_one_ms']['median']} ms"
            )
    finally:
        client.drop_database(STORE_DB)
        client.close()
    return results


def figures(results: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    base = results.get(str(sizes[0]), {})
    out = []
    for size in sizes[1:]:
        here = results.get(str(size), {})
        for op in ("update_one", "find_one"):
            value = here.get(f"{op}_ms", {}).get("median")
            reference = base.get(f"{op}_ms", {}).get("median")
            out.append(
                figure(
                    f"store: {op} by _id, median ms, {size} documents",
                    value,
                    "ms",
                    reference=f"the same at {sizes[0]} documents",
                    reference_value=reference,
                    lower_is_better=True,
                )
            )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1000, 10000, 50000, 100000],
        help="collection sizes, ascending, comma-separated",
    )
    parser.add_argument("--samples", type=int, default=300, help="operations timed per size")
    parser.add_argument("--seconds", type=float, default=15.0, help="time bound per operation")
    parser.add_argument(
        "--grow-seconds", type=float, default=240.0, help="time bound of all the inserts"
    )
    args = parser.parse_args(argv)
    if not args.sizes or args.sizes != sorted(args.sizes) or args.sizes[0] < 1:
        parser.error("--sizes must be ascending positive numbers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    with bench_stack_up():
        backend = store_backend()
        results = run(args)
    out = {
        "benchmark": "store",
        "store_backend": backend,
        "config": {
            "sizes": args.sizes,
            "samples": args.samples,
            "seconds_bound_per_operation": args.seconds,
            "grow_seconds_bound": args.grow_seconds,
        },
        "figures": figures(results, args.sizes),
        "sizes": results,
        "machine": {**facts, "loadavg_1m_at_end": round(os.getloadavg()[0], 2)},
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[bench] interrupted: stopped what it started", file=sys.stderr)
        sys.exit(130)
