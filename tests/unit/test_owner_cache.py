"""The api's cache of aggregate owners (hits, expiry, eviction, unknown aggregates, batches) and
the ownership check at the door that uses it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from fazhi.contracts.envelope import CloudEvent, new_event
from fazhi.store.catalog import EventType
from fazhi.web.ingest import Checked, _check_owners
from fazhi.web.owners import OwnerCache
from fazhi.web.problems import Problem
from supervision.config import Settings as SupervisionSettings

TASK = ("tasks", "M18-T1")
OTHER = ("tasks", "M10-D1")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Store:
    """Owners by (collection, id), counting the reads the cache makes."""

    def __init__(self, owners: dict[tuple[str, str], list[str]]) -> None:
        self.owners = owners
        self.reads: list[tuple[str, str]] = []

    async def fetch(self, collection: str, doc_id: str) -> Sequence[str] | None:
        self.reads.append((collection, doc_id))
        await asyncio.sleep(0)
        return self.owners.get((collection, doc_id))


async def test_owners_read_once_are_served_from_the_cache() -> None:
    store = Store({TASK: ["justice", "audit"]})
    cache = OwnerCache(clock=Clock())
    assert await cache.lookup([TASK], store.fetch) == {TASK: ("justice", "audit")}
    assert await cache.lookup([TASK], store.fetch) == {TASK: ("justice", "audit")}
    assert store.reads == [TASK]


async def test_owners_are_read_again_once_the_ttl_has_passed() -> None:
    clock = Clock()
    store = Store({TASK: ["justice"]})
    cache = OwnerCache(ttl_s=60, clock=clock)
    await cache.lookup([TASK], store.fetch)
    store.owners[TASK] = ["audit"]  # owners changed in the database
    clock.now += 59.9
    assert await cache.lookup([TASK], store.fetch) == {TASK: ("justice",)}
    clock.now += 0.1
    assert await cache.lookup([TASK], store.fetch) == {TASK: ("audit",)}
    assert store.reads == [TASK, TASK]


async def test_a_hit_does_not_extend_the_ttl() -> None:
    clock = Clock()
    store = Store({TASK: ["justice"]})
    cache = OwnerCache(ttl_s=60, clock=clock)
    await cache.lookup([TASK], store.fetch)
    for _ in range(3):
        clock.now += 30
        await cache.lookup([TASK], store.fetch)
    assert len(store.reads) == 2  # read at 0, hit at 30, read again at 60, hit at 90


async def test_unknown_aggregates_are_never_cached() -> None:
    store = Store({})
    cache = OwnerCache(clock=Clock())
    assert await cache.lookup([TASK], store.fetch) == {}
    assert len(cache) == 0
    store.owners[TASK] = ["justice"]  # created a moment later
    assert await cache.lookup([TASK], store.fetch) == {TASK: ("justice",)}
    assert store.reads == [TASK, TASK]


async def test_the_least_recently_used_entry_goes_first() -> None:
    third = ("tasks", "M1-T1")
    store = Store({TASK: ["justice"], OTHER: ["audit"], third: ["finance"]})
    cache = OwnerCache(max_entries=2, clock=Clock())
    await cache.lookup([TASK, OTHER], store.fetch)
    await cache.lookup([TASK], store.fetch)  # TASK is now the most recently used
    await cache.lookup([third], store.fetch)  # evicts OTHER
    assert len(cache) == 2
    store.reads.clear()
    await cache.lookup([TASK, OTHER, third], store.fetch)
    assert store.reads == [OTHER]


async def test_a_batch_reads_its_misses_concurrently_and_each_once() -> None:
    keys = [("tasks", f"T{i}") for i in range(5)]
    started: list[tuple[str, str]] = []
    release = asyncio.Event()

    async def fetch(collection: str, doc_id: str) -> Sequence[str] | None:
        started.append((collection, doc_id))
        await release.wait()
        return ["justice"]

    cache = OwnerCache(clock=Clock())
    cache.put(keys[0], ["audit"])
    lookup = asyncio.create_task(cache.lookup([*keys, keys[1], keys[0]], fetch))
    for _ in range(3):
        await asyncio.sleep(0)
    assert started == keys[1:]  # all misses in flight at once, the hit and repeats not read
    release.set()
    found = await lookup
    assert found == {keys[0]: ("audit",), **{key: ("justice",) for key in keys[1:]}}


async def test_a_failed_read_fails_the_lookup_after_the_others_finished() -> None:
    finished: list[str] = []

    async def fetch(collection: str, doc_id: str) -> Sequence[str] | None:
        await asyncio.sleep(0)
        if doc_id == "bad":
            raise ConnectionError("database away")
        await asyncio.sleep(0)
        finished.append(doc_id)
        return ["justice"]

    cache = OwnerCache(clock=Clock())
    with pytest.raises(ConnectionError):
        await cache.lookup([("tasks", "bad"), ("tasks", "good")], fetch)
    assert finished == ["good"]


@pytest.mark.parametrize(("size", "ttl"), [(0, 60.0), (100, 0.0)])
async def test_a_zero_size_or_ttl_turns_caching_off(size: int, ttl: float) -> None:
    store = Store({TASK: ["justice"]})
    cache = OwnerCache(max_entries=size, ttl_s=ttl, clock=Clock())
    for _ in range(2):
        assert await cache.lookup([TASK], store.fetch) == {TASK: ("justice",)}
    assert store.reads == [TASK, TASK]
    assert len(cache) == 0


def test_forget_and_clear_drop_entries() -> None:
    cache = OwnerCache(clock=Clock())
    cache.put(TASK, ["justice"])
    cache.put(OTHER, ["audit"])
    cache.forget(TASK)
    assert cache.get(TASK) is None
    assert cache.get(OTHER) == ("audit",)
    cache.clear()
    assert len(cache) == 0


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        OwnerCache(ttl_s=-1)


def test_the_service_settings_configure_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPERVISION_OWNER_CACHE_TTL_S", raising=False)
    monkeypatch.delenv("SUPERVISION_OWNER_CACHE_SIZE", raising=False)
    defaults = SupervisionSettings()
    assert (defaults.owner_cache_ttl_s, defaults.owner_cache_size) == (60.0, 20_000)
    monkeypatch.setenv("SUPERVISION_OWNER_CACHE_TTL_S", "5")
    monkeypatch.setenv("SUPERVISION_OWNER_CACHE_SIZE", "100")
    settings = SupervisionSettings()
    assert (settings.owner_cache_ttl_s, settings.owner_cache_size) == (5.0, 100)


# ------------------------------------------------------------------ the check at the door


class FakeCollection:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.reads: list[str] = []

    async def find_one(self, query: dict[str, Any], projection: object) -> dict[str, Any] | None:
        self.reads.append(query["_id"])
        return self.docs.get(query["_id"])


ALERTS = FakeCollection({"A-1": {"_id": "A-1", "owner_units": ["emergency-office"]}})
UPDATED = EventType("alert.updated", BaseModel, collection="alerts")
ACKNOWLEDGED = EventType("alert.acknowledged", BaseModel, collection="alerts", any_unit=True)


def about(subject: str, unit: str) -> CloudEvent:
    return new_event(type="t", source=f"/units/{unit}", subject=subject, data={})


async def check(rt: Any, *checked: tuple[CloudEvent, EventType]) -> int:
    try:
        await _check_owners(rt, [Checked(event, kind, b"") for event, kind in checked])
    except Problem as problem:
        return problem.status
    return 202


async def test_the_door_refuses_other_units_and_reads_each_aggregate_once() -> None:
    alerts = FakeCollection(dict(ALERTS.docs))
    rt = SimpleNamespace(db={"alerts": alerts}, owners=OwnerCache())
    assert await check(rt, (about("A-1", "emergency-office"), UPDATED)) == 202
    assert await check(rt, (about("A-1", "justice"), UPDATED)) == 403
    assert await check(rt, (about("A-2", "justice"), UPDATED)) == 202  # not created yet
    assert alerts.reads == ["A-1", "A-2"]


async def test_types_any_unit_may_post_pass_even_with_the_owners_known() -> None:
    rt = SimpleNamespace(db={"alerts": FakeCollection(dict(ALERTS.docs))}, owners=OwnerCache())
    owner, staff = about("A-1", "emergency-office"), about("A-1", "justice")
    assert await check(rt, (owner, UPDATED), (staff, ACKNOWLEDGED)) == 202
    assert await check(rt, (staff, ACKNOWLEDGED)) == 202
