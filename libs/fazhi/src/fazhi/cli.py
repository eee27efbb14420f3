"""`fazhi keys ...`: create, revoke and seed API keys in the shared `auth` database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from fazhi.auth import KeyStore
from fazhi.roles import Role
from fazhi.topology import AUTH_DATABASE
from fazhi.units import all_units

OPERATOR_UNIT = "rule-of-law-office"
EXTRA_ROLES = {
    "emergency-management": {Role.STAFF},
    "gov-office": {Role.SUPERVISOR},
    "justice": {Role.SUPERVISOR},
    "rule-of-law-office": {Role.SUPERVISOR},
}


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
                if principal is not None and principal.unit == unit and roles <= principal.roles:
                    return key
            new, _ = await store.create(unit, roles)
            return new

        operator = await keep_or_create(existing.get("operator"), OPERATOR_UNIT, {Role.OPERATOR})
        old_units: dict[str, str] = existing.get("units", {})
        units = {
            unit.code: await keep_or_create(
                old_units.get(unit.code),
                unit.code,
                {Role.DEPARTMENT, *EXTRA_ROLES.get(unit.code, set())},
            )
            for unit in all_units()
        }
    finally:
        await client.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"operator": operator, "units": units}, indent=2, ensure_ascii=False) + "\n"
    )
    out.chmod(0o600)
    print(f"demo keys for the operator and {len(units)} units in {out}", file=sys.stderr)
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
    args = parser.parse_args(argv)
    try:
        return int(asyncio.run(args.run(args)))
    except ValueError as exc:
        parser.error(str(exc))
    return 2  # unreachable: parser.error exits


if __name__ == "__main__":
    raise SystemExit(main())
