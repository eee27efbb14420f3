"""Search benchmark: the portal's Chinese full-text search (`open_government.portal.search`)
over a registry of published documents, p50 and p95 per query, beside a reference measured in
the same run on the same collection: one `find_one` by `_id` (the cheapest indexed round trip).

It fills `bench_opengov.documents` on the bench stack with generated documents (titles and
bodies drawn from the vocabulary of a district's publications; tokens by `fazhi.rules.textsearch`;
the service's own indexes), in batches of 1000 bounded by `--grow-seconds`, refreshes the
planner's statistics, then times `--samples` searches of each query of `QUERIES` (words of
every selectivity, with and without the kind, unit and year filters), one at a time. Prints one
JSON object on stdout; asserts nothing (target p95 <= 50 ms at 100,000 documents).

    .local/venv/bin/python bench/search.py --documents 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from common import (
    BENCH_MONGO,
    analyze,
    at_most,
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

SEARCH_DB = "bench_opengov"
BATCH = 1000
UNITS = [
    "gov-office",
    "justice",
    "market-regulation",
    "emergency-management",
    "education",
    "health",
    "finance",
    "housing-construction",
    "urban-management",
    "audit",
]
KINDS = [
    "normative",
    "policy",
    "power_list",
    "no_penalty",
    "enforcement",
    "news",
    "reconsideration",
    "dishonesty",
]
SUBJECTS = [
    "行政执法",
    "政务公开",
    "营商环境",
    "安全生产",
    "城市管理",
    "市场监管",
    "公共卫生",
    "教育资助",
    "住房保障",
    "财政预算",
    "审计整改",
    "消防安全",
    "社区治理",
    "法治宣传",
    "养老服务",
    "垃圾分类",
    "物业管理",
    "食品安全",
    "交通秩序",
    "文物保护",
]
ACTIONS = ["关于加强", "关于进一步规范", "关于印发", "关于开展", "关于做好", "关于调整"]
TAILS = ["工作的通知", "实施方案", "管理办法", "工作要点", "专项行动方案", "的若干措施"]
RARE = ["共享单车", "行政复议", "不予处罚", "失信惩戒", "听证程序", "电梯加装", "夜间经济"]
SENTENCES = [
    "为深入贯彻落实法治政府建设实施纲要，结合本区实际，制定本方案。",
    "各部门要高度重视，明确责任分工，确保各项工作落到实处。",
    "本办法自印发之日起施行，有效期五年。",
    "对违反本规定的行为，由有关部门依法予以处理。",
    "街道办事处应当加强对辖区内相关工作的指导和监督。",
    "区司法局负责本办法的解释工作。",
    "建立健全工作台账，定期报送工作进展情况。",
    "坚持依法行政，规范执法程序，提高执法效能。",
]
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("复议", {}),
    ("单车", {}),
    ("执法", {}),
    ("管理办法", {}),
    ("行政复议", {}),
    ("食品安全", {"kind": "normative"}),
    ("执法", {"unit": "justice", "year": 2026}),
    ("法治政府建设", {}),
]


def document(n: int, rng: random.Random, start: datetime) -> dict[str, Any]:
    from fazhi.rules.textsearch import index_tokens

    subject = rng.choice(SUBJECTS)
    rare = rng.choice(RARE) if rng.random() < 0.02 else ""
    title = f"{rng.choice(ACTIONS)}{subject}{rare}{rng.choice(TAILS)}"
    body = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 10)))
    if rare:
        body += f"本方案所称{rare}，是指有关工作中的重点事项。"
    at = start + timedelta(minutes=n * 17)
    return {
        "_id": f"BENCH-D{n:07d}",
        "doc_kind": rng.choice(KINDS),
        "issuing_unit": rng.choice(UNITS),
        "title": title,
        "number": f"碑政规〔{at.year}〕{n % 5000 + 1}号" if n % 4 == 0 else "",
        "body": body,
        "published_at": at,
        "published_on": at.date().isoformat(),
        "month": at.date().isoformat()[:7],
        "year": at.year,
        "version": 1,
        "tokens": index_tokens(title, "", body),
    }


def grow(collection: Any, total: int, seconds: float) -> tuple[int, float]:
    rng = random.Random(2026)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    began = time.monotonic()
    stored = 0
    while stored < total and time.monotonic() - began < seconds:
        end = min(total, stored + BATCH)
        collection.insert_many([document(n, rng, start) for n in range(stored, end)])
        stored = end
        if stored % 10_000 == 0:
            say(f"search: {stored} documents")
    return stored, round(time.monotonic() - began, 1)


async def timed_searches(samples: int, seconds: float) -> dict[str, Any]:
    from pymongo import AsyncMongoClient

    from open_government.portal.search import Filters, search

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO, tz_aware=True)
    db = client[SEARCH_DB]
    out: dict[str, Any] = {}
    try:
        all_took: list[float] = []
        for query, filters in QUERIES:
            took: list[float] = []
            total = 0
            deadline = time.monotonic() + seconds
            while len(took) < samples and time.monotonic() < deadline:
                started = time.perf_counter()
                found = await search(db, query, Filters(**filters), limit=20)
                took.append(time.perf_counter() - started)
                total = found.total
            all_took += took
            key = query + (f" {filters}" if filters else "")
            out[key] = {
                "p50_ms": median_ms(took),
                "p95_ms": percentile_ms(took, 95),
                "samples": len(took),
                "matches": total,
            }
            say(
                f"search {key}: p50 {out[key]['p50_ms']} ms, p95 {out[key]['p95_ms']} ms, {total} matches"
            )
        rng = random.Random(7)
        ids = await db["documents"].count_documents({})
        reference: list[float] = []
        for _ in range(samples):
            started = time.perf_counter()
            await db["documents"].find_one({"_id": f"BENCH-D{rng.randrange(max(ids, 1)):07d}"})
            reference.append(time.perf_counter() - started)
        out["_all"] = {"p50_ms": median_ms(all_took), "p95_ms": percentile_ms(all_took, 95)}
        out["_reference_find_one"] = {
            "p50_ms": median_ms(reference),
            "p95_ms": percentile_ms(reference, 95),
        }
    finally:
        await client.close()
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pymongo import ASCENDING

    drop_databases(SEARCH_DB)
    client = mongo_client()
    db = client[SEARCH_DB]
    try:
        # The service's own indexes (open_government.store.ensure_indexes), synchronously.
        db["documents"].create_index([("tokens", ASCENDING)], name="tokens")
        db["documents"].create_index([("doc_kind", ASCENDING), ("year", ASCENDING)], name="kind")
        db["documents"].create_index(
            [("issuing_unit", ASCENDING), ("year", ASCENDING)], name="unit"
        )
        db["documents"].create_index([("year", ASCENDING)], name="year")
        stored, grown_s = grow(db["documents"], args.documents, args.grow_seconds)
        analyzed = analyze()
        measured = asyncio.run(timed_searches(args.samples, args.seconds))
    finally:
        client.drop_database(SEARCH_DB)
        client.close()
    return {
        "documents": stored,
        "reached": stored >= args.documents,
        "grow_s": grown_s,
        "analyze": analyzed,
        "queries": measured,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000, help="documents published")
    parser.add_argument("--samples", type=int, default=50, help="searches timed per query")
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound per query")
    parser.add_argument("--grow-seconds", type=float, default=2400.0, help="time bound of the load")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    with bench_stack_up():
        backend = store_backend()
        results = run(args)
    every = results["queries"]["_all"]
    reference = results["queries"]["_reference_find_one"]
    size = results["documents"]
    out = {
        "benchmark": "search",
        "store_backend": backend,
        "config": {
            "documents": args.documents,
            "samples": args.samples,
            "seconds_bound_per_query": args.seconds,
            "grow_seconds_bound": args.grow_seconds,
        },
        "figures": [
            figure(
                f"search: p95 ms over {len(QUERIES)} queries, {size} documents",
                every["p95_ms"],
                "ms",
                reference="find_one by _id on the same collection, p95 ms",
                reference_value=reference["p95_ms"],
                target="p95 <= 50 ms at 100,000 documents",
                met=at_most(every["p95_ms"], 50) if results["reached"] else None,
                lower_is_better=True,
            ),
            figure(
                f"search: p50 ms over {len(QUERIES)} queries, {size} documents",
                every["p50_ms"],
                "ms",
                reference="find_one by _id on the same collection, p50 ms",
                reference_value=reference["p50_ms"],
                lower_is_better=True,
            ),
        ],
        "search": results,
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
