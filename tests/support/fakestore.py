"""An api's runtime without a broker or a database, for unit tests of its routes: an in-memory
MongoDB of the few query forms the read routes use (equality, `$and`, `$or`, comparisons,
projections, sort and limit), keys by name, and the FakePublisher."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pymongo.errors import OperationFailure

from fazhi.bus.publisher import FakePublisher
from fazhi.roles import Role
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, Keyring, MasterKey, MemoryDataKeys
from fazhi.web.auth import Principal
from fazhi.web.problems import Problem
from fazhi.web.service import ServiceRuntime

KEYS = {
    "justice": ("justice", {Role.DEPARTMENT}),
    "court": ("court", {Role.DEPARTMENT}),
    "emergency": ("emergency-management", {Role.DEPARTMENT}),
    "staff": ("emergency-management", {Role.STAFF}),
    "supervisor": ("gov-office", {Role.SUPERVISOR}),
    "operator": ("rule-of-law-office", {Role.OPERATOR}),
}
"""Each test key is its own name: `Authorization: Bearer supervisor`."""


def _values(doc: Mapping[str, Any], name: str) -> list[Any]:
    value = doc.get(name)
    return list(value) if isinstance(value, list) else [value]


def _compare(value: Any, op: str, arg: Any) -> bool:
    if value is None:
        return False
    if op == "$lt":
        return bool(value < arg)
    if op == "$gt":
        return bool(value > arg)
    if op == "$lte":
        return bool(value <= arg)
    if op == "$gte":
        return bool(value >= arg)
    raise NotImplementedError(op)


def matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for name, want in query.items():
        if name == "$and":
            if not all(matches(doc, q) for q in want):
                return False
        elif name == "$or":
            if not any(matches(doc, q) for q in want):
                return False
        elif isinstance(want, dict):
            for op, arg in want.items():
                if op == "$ne":
                    ok = arg not in _values(doc, name)
                elif op == "$in":
                    ok = any(v in arg for v in _values(doc, name))
                else:
                    ok = any(_compare(v, op, arg) for v in _values(doc, name))
                if not ok:
                    return False
        elif want not in _values(doc, name):
            return False
    return True


def project(doc: dict[str, Any], projection: Mapping[str, Any] | None) -> dict[str, Any]:
    if not projection:
        return copy.deepcopy(doc)
    if any(v in (1, True) for v in projection.values()):
        keep = {k for k, v in projection.items() if v in (1, True)} | {"_id"}
        keep -= {k for k, v in projection.items() if v in (0, False)}
        return copy.deepcopy({k: v for k, v in doc.items() if k in keep})
    return copy.deepcopy({k: v for k, v in doc.items() if k not in projection})


class FakeCursor:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def sort(self, key: str | list[tuple[str, int]], direction: int = 1) -> FakeCursor:
        order = [(key, direction)] if isinstance(key, str) else key
        for name, way in reversed(order):
            present = [d for d in self.docs if d.get(name) is not None]
            absent = [d for d in self.docs if d.get(name) is None]
            present.sort(key=lambda d: d[name], reverse=way < 0)
            self.docs = absent + present if way > 0 else present + absent
        return self

    def limit(self, n: int) -> FakeCursor:
        self.docs = self.docs[:n] if n else self.docs
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return self.docs

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in self.docs:
            yield doc


class FakeCollection:
    def __init__(self, docs: Iterable[dict[str, Any]] = ()) -> None:
        self.docs = list(docs)
        self.queries: list[dict[str, Any]] = []
        self.indexes: list[list[str]] = []
        self.names: dict[str, int] = {}

    def find(
        self, query: Mapping[str, Any] | None = None, projection: Mapping[str, Any] | None = None
    ) -> FakeCursor:
        self.queries.append(dict(query or {}))
        return FakeCursor([project(d, projection) for d in self.docs if matches(d, query or {})])

    async def create_index(self, keys: list[tuple[str, int]], **options: Any) -> str:
        self.indexes.append([name for name, _ in keys])
        self.names[str(options.get("name", "_".join(self.indexes[-1])))] = len(self.indexes) - 1
        return str(options.get("name", "_".join(self.indexes[-1])))

    async def drop_index(self, name: str) -> None:
        if name not in self.names:
            raise OperationFailure(f"index not found with name [{name}]")
        self.indexes[self.names.pop(name)] = []

    async def find_one(
        self, query: Mapping[str, Any], projection: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        found = await self.find(query, projection).to_list(None)
        return found[0] if found else None


class FakeDatabase(dict[str, FakeCollection]):
    def __missing__(self, name: str) -> FakeCollection:
        self[name] = FakeCollection()
        return self[name]


class FakeKeys:
    async def authenticate(self, authorization: str | None) -> Principal:
        token = (authorization or "").removeprefix("Bearer ")
        if token not in KEYS:
            raise Problem(401, "The API key is unknown or revoked.", kind="unauthenticated")
        unit, roles = KEYS[token]
        return Principal(key_id=token, unit=unit, roles=frozenset(roles))


def fake_runtime(db: FakeDatabase, settings: ServiceSettings | None = None) -> ServiceRuntime:
    settings = settings or ServiceSettings()
    return ServiceRuntime(
        settings=settings,
        mongo={settings.mongo_db: db, settings.auth_db: FakeDatabase()},  # type: ignore[arg-type]
        publisher=FakePublisher(),
        keys=FakeKeys(),  # type: ignore[arg-type]
        data_keys=Keyring(MemoryDataKeys(), MasterKey(DEVELOPMENT_MASTER_KEY)),
    )
