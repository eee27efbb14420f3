"""`fazhi keys ...`: create, revoke and seed API keys in the shared `auth` database.
`fazhi personal-data ...`: purge what is past its retention period, or erase chosen aggregates
(`fazhi.store.retention`), with the service's own settings (its env prefix).
`fazhi dlq ...`: list, show and replay dead letters (`fazhi.bus.dlq`), with the operators' Kafka
login (`FAZHI_KAFKA_BOOTSTRAP`, `FAZHI_KAFKA_SECURITY_PROTOCOL`, `FAZHI_KAFKA_SASL_*`, …).
`fazhi replay <service> --into <database>`: rebuild a service's projections from its log
(`fazhi.bus.replay`); `--verify` compares them with the live database.
`fazhi audit verify [service] [aggregate]`: recompute the audit trail's hash chains
(`fazhi.bus.audit`). Both with the service's own settings (its env prefix)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic_settings import SettingsConfigDict
from pymongo import AsyncMongoClient

from fazhi.bus import dlq
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.roles import Role
from fazhi.rules.units import all_units
from fazhi.settings import ServiceSettings
from fazhi.store import retention
from fazhi.store.catalog import EventCatalog
from fazhi.store.connect import mongo_client
from fazhi.store.sealing import MongoDataKeys
from fazhi.topology import AUTH_DATABASE, SERVICES, service
from fazhi.web.auth import KeyStore

if TYPE_CHECKING:  # replay and audit import the workers' machinery: only when used
    from fazhi.bus.reactions import Reactions
    from fazhi.bus.replay import Window
    from fazhi.bus.worker import WorkerEntry

OPERATOR_UNIT = "rule-of-law-office"
ROLE_KEYS = {
    Role.STAFF: "emergency-management",
    Role.SUPERVISOR: "rule-of-law-office",
}
"""The demo's keys for the pages: the staff console (区应急管理局) and the supervision dashboard
(区委依法治区办). A unit's department key carries the department role only."""


def _store(args: argparse.Namespace) -> tuple[AsyncMongoClient[dict[str, Any]], KeyStore]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        args.mongo_url, serverSelectionTimeoutMS=5000
    )
    return client, KeyStore(client[args.auth_db], cache_seconds=0)


async def _create(args: argparse.Namespace) -> int:
    client, store = _store(args)
    try:
        await store.ensure_indexes()
        key, principal = await store.create(args.unit, {Role(r) for r in args.role})
    finally:
        await client.close()
    print(
        f"key id {principal.key_id} for unit {principal.unit}, roles {', '.join(sorted(args.role))}",
        file=sys.stderr,
    )
    print("store it now: it is shown only once", file=sys.stderr)
    print(key)
    return 0


async def _revoke(args: argparse.Namespace) -> int:
    client, store = _store(args)
    try:
        revoked = await store.revoke(args.key_id)
    finally:
        await client.close()
    print("revoked" if revoked else f"no active key {args.key_id}", file=sys.stderr)
    return 0 if revoked else 1


async def _demo(args: argparse.Namespace) -> int:
    """Keys for the operator and every unit, kept across runs while they still authenticate."""
    out = Path(args.out)
    existing: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    client, store = _store(args)
    try:
        await store.ensure_indexes()

        async def keep_or_create(key: str | None, unit: str, roles: set[Role]) -> str:
            if key:
                principal = await store.lookup(key)
                if principal is not None and principal.unit == unit and roles == principal.roles:
                    return key
                if principal is not None:  # a key of other roles is not left working
                    await store.revoke(principal.key_id)
            new, _ = await store.create(unit, roles)
            return new

        operator = await keep_or_create(existing.get("operator"), OPERATOR_UNIT, {Role.OPERATOR})
        old_units: dict[str, str] = existing.get("units", {})
        units = {
            unit.code: await keep_or_create(old_units.get(unit.code), unit.code, {Role.DEPARTMENT})
            for unit in all_units()
        }
        old_roles: dict[str, dict[str, str]] = existing.get("roles", {})
        roles = {
            role.value: {
                "unit": unit,
                "key": await keep_or_create(old_roles.get(role.value, {}).get("key"), unit, {role}),
            }
            for role, unit in ROLE_KEYS.items()
        }
    finally:
        await client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"operator": operator, "units": units, "roles": roles}
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    out.chmod(0o600)
    print(
        f"demo keys for the operator, {len(units)} units and the roles {', '.join(roles)} in {out}",
        file=sys.stderr,
    )
    return 0


def _service(name: str) -> tuple[ServiceSettings, EventCatalog]:
    """The service's settings (from its env prefix) and its event catalogue."""
    package = service(name).package
    settings = importlib.import_module(f"{package}.config").Settings()
    catalog = importlib.import_module(f"{package}.events").CATALOG
    assert isinstance(settings, ServiceSettings)
    assert isinstance(catalog, EventCatalog)
    return settings, catalog


def _today(args: argparse.Namespace) -> date:
    return date.fromisoformat(args.today) if args.today else datetime.now(CHINA_TZ).date()


async def _purge(args: argparse.Namespace) -> int:
    settings, catalog = _service(args.service)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=5000
    )
    try:
        db = client[settings.mongo_db]
        collections = retention.personal_collections(catalog)
        await retention.ensure_indexes(db, collections)
        purged = await retention.purge(
            db,
            collections,
            today=_today(args),
            days=args.days or settings.personal_data_retention_days,
            window=args.window,
        )
    finally:
        await client.close()
    print(
        f"{len(purged.aggregates)} aggregates and {len(purged.orphan_keys)} unused data keys purged",
        file=sys.stderr,
    )
    return 0


async def _erase(args: argparse.Namespace) -> int:
    settings, catalog = _service(args.service)
    if args.collection not in retention.personal_collections(catalog):
        raise ValueError(
            f"{args.service} keeps personal data in: "
            + ", ".join(retention.personal_collections(catalog))
        )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=5000
    )
    try:
        await retention.erase(
            client[settings.mongo_db], args.collection, args.ids, today=_today(args)
        )
    finally:
        await client.close()
    print(f"personal data of {len(args.ids)} {args.collection} erased", file=sys.stderr)
    return 0


async def _rewrap(args: argparse.Namespace) -> int:
    settings, _ = _service(args.service)
    master = settings.master()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongo_url, serverSelectionTimeoutMS=5000
    )
    try:
        moved, left = await MongoDataKeys(client[settings.mongo_db]).rewrap(master)
    finally:
        await client.close()
    print(f"{moved} data keys rewrapped under master key {master.fingerprint}", file=sys.stderr)
    if left:
        print(f"{left} data keys are under a master key not configured", file=sys.stderr)
    return 1 if left else 0


class ToolSettings(ServiceSettings):
    """The operators' tools read `FAZHI_`-prefixed settings (`FAZHI_KAFKA_BOOTSTRAP`, …)."""

    model_config = SettingsConfigDict(env_prefix="FAZHI_")


async def _dlq_list(args: argparse.Namespace) -> int:
    letters = await dlq.read(ToolSettings().kafka(), args.topic)
    print("position\toriginal\ttype\tid\tgroup\terror")
    for letter in letters:
        print(letter.summary())
    print(f"{len(letters)} dead letters in {args.topic}", file=sys.stderr)
    return 0


async def _dlq_show(args: argparse.Namespace) -> int:
    letters = await dlq.read(ToolSettings().kafka(), args.topic)
    for letter in dlq.choose(letters, dlq.parse_positions(args.positions)):
        print(f"# {args.topic} {letter.position}")
        for key, value in letter.headers:
            print(f"{key}: {value.decode('utf-8', 'replace')}")
        print(f"key: {(letter.key or b'').decode('utf-8', 'replace')}")
        print((letter.value or b"").decode("utf-8", "replace"))
    return 0


async def _dlq_replay(args: argparse.Namespace) -> int:
    if not args.positions and not args.all:
        raise ValueError("name the dead letters to replay (partition:offset …) or pass --all")
    kafka = ToolSettings().kafka()
    letters = await dlq.read(kafka, args.topic)
    chosen = dlq.choose(letters, None if args.all else dlq.parse_positions(args.positions))
    for letter in chosen:
        print(
            f"replay {letter.position} -> {letter.original_topic}\t{letter.event[0]}\t{letter.event[1]}"
        )
    if args.dry_run:
        print(f"{len(chosen)} dead letters would be replayed", file=sys.stderr)
        return 0
    replayed = await dlq.replay(kafka, chosen)
    print(f"{replayed} dead letters replayed", file=sys.stderr)
    return 0


def _worker(name: str) -> tuple[ServiceSettings, WorkerEntry[Any]]:
    from fazhi.bus.worker import WorkerEntry

    package = service(name).package
    entry = importlib.import_module(f"{package}.worker").WORKER
    assert isinstance(entry, WorkerEntry)
    settings = entry.settings()
    assert isinstance(settings, ServiceSettings)
    return settings, entry


async def replay_service(
    name: str,
    into: str,
    *,
    verify: bool = False,
    force: bool = False,
    since: datetime | None = None,
    window: Window | None = None,
    batch: int | None = None,
    reactions: Reactions | None = None,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
) -> int:
    """`fazhi replay`: rebuild the service's projections into the database `into` (refused
    when it holds anything, unless `force`: then it is emptied first); with `verify`, print the
    differences from the live database. Returns how many differences were found (0 without
    `verify`). `reactions` replaces the worker's (a changed handler, tried on the log)."""
    from fazhi.bus import replay

    settings, entry = _worker(name)
    client = mongo_client(settings)  # as the worker reads and writes
    try:
        live, target = client[settings.mongo_db], client[into]
        if not await replay.is_empty(target):
            if not force:
                raise ValueError(f"database {into!r} is not empty: name a new one, or pass --force")
            await client.drop_database(into)
        done = await replay.replay(
            catalog=entry.catalog,
            reactions=entry.reactions if reactions is None else reactions,
            settings=settings,
            live=live,
            target=target,
            ensure_indexes=entry.ensure_indexes,
            carried=replay.carried_collections(entry.timers, entry.carried),
            batch=batch or replay.BATCH,
            since_ms=int(since.timestamp() * 1000) if since is not None else None,
            window=window,
            progress=progress,
        )
        print(done.summary(), file=out)
        if not verify:
            return 0
        differences, counts = await replay.compare(live, target, skip=done.carried)
        for difference in differences:
            print(difference, file=out)
        compared = ", ".join(f"{c} {n}" for c, n in counts.items())
        print(
            f"{len(differences)} differences from {settings.mongo_db} "
            f"({sum(counts.values())} documents compared: {compared})",
            file=out,
        )
        return len(differences)
    finally:
        await client.close()


async def _replay(args: argparse.Namespace) -> int:
    from fazhi.bus.replay import Window

    found = await replay_service(
        args.service,
        args.into,
        verify=args.verify,
        force=args.force,
        since=datetime.fromisoformat(args.since) if args.since else None,
        window=Window.of(json.loads(Path(args.offsets).read_text())) if args.offsets else None,
        batch=args.batch,
    )
    return 1 if found else 0


async def audit_verify(
    names: Sequence[str], aggregate: str | None = None, *, out: TextIO = sys.stdout
) -> int:
    """`fazhi audit verify`: the broken chains found (each printed)."""
    from fazhi.bus import audit

    broken = 0
    for name in names:
        settings, _ = _service(name)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url, serverSelectionTimeoutMS=5000
        )
        try:
            db = client[settings.mongo_db]
            if aggregate is not None:
                entries = {
                    aggregate: await db[audit.AUDIT].find({"aggregate": aggregate}).to_list(None)
                }
                head = await db[audit.AUDIT_HEADS].find_one({"_id": aggregate})
                heads = {aggregate: head} if head is not None else {}
            else:
                entries = {}
                for entry in await db[audit.AUDIT].find({}).to_list(None):
                    entries.setdefault(str(entry.get("aggregate")), []).append(entry)
                heads = {h["_id"]: h for h in await db[audit.AUDIT_HEADS].find({}).to_list(None)}
            problems = [
                problem
                for agg in sorted({*entries, *heads})
                for problem in audit.verify(agg, entries.get(agg, []), heads.get(agg))
            ]
        finally:
            await client.close()
        for problem in problems:
            print(f"{name} {problem.aggregate}: {problem.problem}", file=out)
        count = sum(len(e) for e in entries.values())
        print(
            f"{name}: {len({*entries, *heads})} chains, {count} entries, {len(problems)} problems",
            file=out,
        )
        broken += len(problems)
    return broken


async def _audit_verify(args: argparse.Namespace) -> int:
    names = [args.service] if args.service else [s.name for s in SERVICES]
    return 1 if await audit_verify(names, args.aggregate) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fazhi", description="Fazhi administration")
    parser.add_argument(
        "--mongo-url", default=os.environ.get("FAZHI_MONGO_URL", "mongodb://127.0.0.1:27017")
    )
    parser.add_argument("--auth-db", default=os.environ.get("FAZHI_AUTH_DB", AUTH_DATABASE))
    commands = parser.add_subparsers(dest="area", required=True)
    keys = commands.add_parser("keys", help="API keys").add_subparsers(
        dest="command", required=True
    )
    create = keys.add_parser("create", help="create a key and print it once")
    create.add_argument("--unit", required=True, help="unit code, see GET /v1/units")
    create.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    create.set_defaults(run=_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke)
    demo = keys.add_parser("demo", help="write demo keys for every unit to a JSON file")
    demo.add_argument("--out", default=".local/demo-keys.json")
    demo.set_defaults(run=_demo)
    personal = commands.add_parser(
        "personal-data", help="retention and erasure of personal data"
    ).add_subparsers(dest="command", required=True)
    names = [s.name for s in SERVICES]
    purge = personal.add_parser(
        "purge", help="erase the aggregates past their retention period (the worker's job)"
    )
    purge.add_argument("--service", required=True, choices=names)
    purge.add_argument("--today", help="YYYY-MM-DD (default: today in China)")
    purge.add_argument("--days", type=int, help="retention period (default: the service's)")
    purge.add_argument(
        "--window",
        type=int,
        default=retention.WINDOW_DAYS,
        help="how many days before the period's end to look back (catch up a stopped job)",
    )
    purge.set_defaults(run=_purge)
    erase = personal.add_parser(
        "erase", help="erase chosen aggregates' personal data now (their data keys shredded)"
    )
    erase.add_argument("--service", required=True, choices=names)
    erase.add_argument("--today", help="YYYY-MM-DD (default: today in China)")
    erase.add_argument("collection", help="where the aggregates are projected (e.g. cases)")
    erase.add_argument("ids", nargs="+", help="aggregate ids")
    erase.set_defaults(run=_erase)
    rewrap = personal.add_parser(
        "rewrap",
        help="move data keys to the current MASTER_KEY from those in MASTER_KEY_PREVIOUS",
    )
    rewrap.add_argument("--service", required=True, choices=names)
    rewrap.set_defaults(run=_rewrap)
    dead = commands.add_parser(
        "dlq", help="dead letters: list, show and replay them to their topic after a fix"
    ).add_subparsers(dest="command", required=True)
    listing = dead.add_parser("list", help="one line per dead letter: position, origin, error")
    listing.add_argument("topic", help="a dead-letter topic, e.g. supervision.events.dlq")
    listing.set_defaults(run=_dlq_list)
    show = dead.add_parser("show", help="the headers and value of chosen dead letters")
    show.add_argument("topic")
    show.add_argument("positions", nargs="+", help="partition:offset, as `list` prints")
    show.set_defaults(run=_dlq_show)
    again = dead.add_parser(
        "replay", help="produce chosen dead letters again to their original topic"
    )
    again.add_argument("topic")
    again.add_argument("positions", nargs="*", help="partition:offset, as `list` prints")
    again.add_argument("--all", action="store_true", help="every dead letter the topic holds")
    again.add_argument("--dry-run", action="store_true", help="only say what would be replayed")
    again.set_defaults(run=_dlq_replay)
    rebuild = commands.add_parser(
        "replay",
        help="rebuild a service's projections from its log into a fresh database",
    )
    rebuild.add_argument("service", choices=names)
    rebuild.add_argument("--into", required=True, help="the database to rebuild into (empty)")
    rebuild.add_argument(
        "--verify",
        action="store_true",
        help="compare it with the live database, document by document (exit 1 on a difference)",
    )
    rebuild.add_argument("--force", action="store_true", help="empty the target database first")
    rebuild.add_argument(
        "--since", help="only the records stamped at this time or later (ISO 8601 with zone)"
    )
    rebuild.add_argument(
        "--offsets",
        help='a JSON file {"from": {topic: {partition: offset}}, "to": {...}}: where to start and '
        "stop on each partition (e.g. a consumer group's committed offsets), either optional",
    )
    rebuild.add_argument("--batch", type=int, help="records per batch (default 500)")
    rebuild.set_defaults(run=_replay)
    trail = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="command", required=True
    )
    check = trail.add_parser(
        "verify", help="recompute the hash chains: an entry removed, added or altered is found"
    )
    check.add_argument("service", nargs="?", choices=names, help="default: every service")
    check.add_argument("aggregate", nargs="?", help="one aggregate's chain (default: all)")
    check.set_defaults(run=_audit_verify)
    args = parser.parse_args(argv)
    try:
        return int(asyncio.run(args.run(args)))
    except ValueError as exc:
        parser.error(str(exc))
    return 2  # unreachable: parser.error exits


if __name__ == "__main__":
    raise SystemExit(main())
