"""API keys: stored hashed in the shared `auth` database, each bound to one unit and roles."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.roles import Role
from fazhi.rules.units import is_unit_code
from fazhi.store.projection import HotQuery
from fazhi.web.problems import Problem

KEY_PREFIX = "fz_"


@dataclass(frozen=True)
class Principal:
    key_id: str
    unit: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a plain SHA-256 is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


KEY_QUERIES = (
    HotQuery(
        "api_keys",
        {"hash": "0" * 64, "revoked_at": None},
        "every authenticated request (cached for 30 s)",
    ),
)


class KeyStore:
    """Keys in `<auth db>.api_keys`; known keys are cached briefly to keep ingest fast."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, cache_seconds: float = 30.0) -> None:
        self._keys = db["api_keys"]
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def ensure_indexes(self) -> None:
        await self._keys.create_index([("hash", ASCENDING)], unique=True, name="hash_unique")
        await self._keys.create_index([("unit", ASCENDING)], name="unit")

    async def create(self, unit: str, roles: set[Role] | frozenset[Role]) -> tuple[str, Principal]:
        if not is_unit_code(unit):
            raise ValueError(f"unknown unit code {unit!r}; see GET /v1/units")
        if not roles:
            raise ValueError("a key needs at least one role")
        key = new_key()
        key_id = secrets.token_hex(8)
        await self._keys.insert_one(
            {
                "_id": key_id,
                "hash": hash_key(key),
                "unit": unit,
                "roles": sorted(str(r) for r in roles),
                "created_at": datetime.now(UTC),
                "revoked_at": None,
            }
        )
        return key, Principal(key_id=key_id, unit=unit, roles=frozenset(roles))

    async def revoke(self, key_id: str) -> bool:
        result = await self._keys.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": datetime.now(UTC)}}
        )
        self._cache.clear()
        return result.modified_count == 1

    async def lookup(self, key: str) -> Principal | None:
        digest = hash_key(key)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        doc = await self._keys.find_one({"hash": digest, "revoked_at": None})
        principal = (
            Principal(
                key_id=str(doc["_id"]),
                unit=str(doc["unit"]),
                roles=frozenset(Role(r) for r in doc["roles"]),
            )
            if doc
            else None
        )
        if principal is not None:  # an unknown key is not cached: it may be created a moment later
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, principal)
        return principal

    async def authenticate(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                401,
                "Send an API key as 'Authorization: Bearer <key>'.",
                kind="unauthenticated",
                headers={"WWW-Authenticate": 'Bearer realm="fazhi"'},
            )
        principal = await self.lookup(token.strip())
        if principal is None:
            raise Problem(
                401,
                "The API key is unknown or revoked.",
                kind="unauthenticated",
                headers={"WWW-Authenticate": 'Bearer realm="fazhi", error="invalid_token"'},
            )
        return principal
