"""Every hot query is served by an index on the local store (FerretDB on PostgreSQL).

FerretDB v1 pushes an equality down to PostgreSQL and leaves `$in`, ranges and sorts to itself,
so a query that filters on anything else, or on a field without an index, reads the whole
collection for every event or request. Each service names its hot queries (`HOT_QUERIES`); this
explains each one over a collection of a few thousand documents and fails on a sequential scan.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

import emergency.store
import open_government.store
import petition_mediation.store
import supervision.deliveries.store
import supervision.store
from fazhi.bus import audit
from fazhi.bus.ledger import LEDGER_QUERIES
from fazhi.receipts.writer import RECEIPT_QUERIES
from fazhi.store import retention
from fazhi.store.projection import HotQuery
from fazhi.web.auth import KEY_QUERIES, KeyStore
from tests.support.processes import MONGO

pytestmark = pytest.mark.integration

FILLER = 3000
Setup = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]


async def _auth_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await KeyStore(db).ensure_indexes()


async def _ledger_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """The ledger and the api's notes of accepted records are read by `_id` only: no index of
    their own."""


async def _retention_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await retention.ensure_indexes(db, ["cases"])


STORES: dict[str, tuple[Setup, tuple[HotQuery, ...]]] = {
    "supervision": (supervision.store.ensure_indexes, supervision.store.HOT_QUERIES),
    "mediation": (petition_mediation.store.ensure_indexes, petition_mediation.store.HOT_QUERIES),
    "emergency": (emergency.store.ensure_indexes, emergency.store.HOT_QUERIES),
    "opengov": (open_government.store.ensure_indexes, open_government.store.HOT_QUERIES),
    "deliveries": (
        supervision.deliveries.store.ensure_indexes,
        supervision.deliveries.store.HOT_QUERIES,
    ),
    "ledger": (_ledger_indexes, (*LEDGER_QUERIES, *RECEIPT_QUERIES)),
    "auth": (_auth_indexes, KEY_QUERIES),
    "audit": (audit.ensure_indexes, audit.AUDIT_QUERIES),
    "retention": (_retention_indexes, retention.hot_queries(["cases"])),
}


def _filler(query: HotQuery, i: int) -> dict[str, Any]:
    """A document whose queried fields take many different values, as real data does."""
    doc: dict[str, Any] = {"_id": f"filler-{i}", "payload": "x" * 200}
    for name, example in query.filter.items():
        if name == "_id":
            continue
        if example is None:
            doc[name] = None if i % 10 else "2026-01-01"
        elif isinstance(example, int):
            doc[name] = i % 7
        else:
            doc[name] = f"{example}-{i}"
    return doc


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("store", sorted(STORES))
async def test_every_hot_query_is_served_by_an_index(store: str) -> None:
    setup, queries = STORES[store]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    db = client[f"test_plans_{store}_{uuid.uuid4().hex[:6]}"]
    try:
        await setup(db)
        filled: set[str] = set()
        for query in queries:
            if query.collection not in filled:
                filled.add(query.collection)
                await db[query.collection].insert_many([_filler(query, i) for i in range(FILLER)])
        scans = []
        for query in queries:
            explained = await db.command(
                "explain",
                {"find": query.collection, "filter": dict(query.filter)},
                verbosity="queryPlanner",
            )
            plan = explained["queryPlanner"]["Plan"]
            kinds = [node.get("Node Type") for node in _nodes(plan)]
            if not explained.get("filterPushdown") or "Seq Scan" in kinds:
                scans.append(
                    f"{query.collection} {dict(query.filter)} ({query.issued_by}): {kinds}"
                )
        assert not scans, "hot queries that read the whole collection:\n" + "\n".join(scans)
    finally:
        await client.drop_database(db.name)
        await client.close()
