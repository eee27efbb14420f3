"""`fazhi keys ...`: create, revoke and seed API keys in the shared `auth` database.
`fazhi personal-data ...`: purge what is past its retention period, or erase chosen aggregates
(`fazhi.store.retention`), with the service's own settings (its env prefix).
`fazhi dlq ...`: list, show and replay dead letters (`fazhi.bus.dlq`), with the operators' Kafka
login (`FAZHI_KAFKA_BOOTSTRAP`, `FAZHI_KAFKA_SECURITY_PROTOCOL`, `FAZHI_KAFKA_SASL_*`, …)."""

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
from typing import Any

from pydantic_settings import SettingsConfigDict
from pymongo import AsyncMongoClient

from fazhi.bus import dlq
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.roles import Role
from fazhi.rules.units import all_units
from fazhi.settings import ServiceSettings
from fazhi.store import retention
from fazhi.store.catalog import EventCatalog
from fazhi.store.sealing import MongoDataKeys
from fazhi.topology import AUTH_DATABASE, SERVICES, service
from fazhi.web.auth import KeyStore

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
    args = parser.parse_args(argv)
    try:
        return int(asyncio.run(args.run(args)))
    except ValueError as exc:
        parser.error(str(exc))
    return 2  # unreachable: parser.error exits


if __name__ == "__main__":
    raise SystemExit(main())
