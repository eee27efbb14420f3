"""Retention of personal data: after a configurable period, an aggregate's data key is deleted
(crypto-shredding: its sealed fields become unreadable on every topic, dead-letter topic and
backup) and its document's `private` part is removed.

The period counts from the aggregate's last event (`retention_day`, stamped by the worker on
every aggregate whose events carry personal data). The job finds what is due by equality on
indexed day strings, one query per collection and day of a window that ends `days` before today
(so a job that did not run for a while catches up); a data key whose aggregate never came to be
(its event was dead-lettered) is found by its own `created_day`. Idempotent: a second run finds
nothing left to do. The worker runs it every `RETENTION_INTERVAL_S`; `fazhi personal-data purge`
runs it by hand, and `fazhi personal-data erase` erases chosen aggregates at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.models import personal_fields
from fazhi.store.catalog import EventCatalog
from fazhi.store.projection import (
    ERASED,
    PERSONAL_DATA,
    PRIVATE,
    RETENTION_DAY,
    UPDATE_BATCH,
    VERSION,
    HotQuery,
)
from fazhi.store.sealing import CREATED_DAY, DATA_KEYS, Keyring, MongoDataKeys, key_id

log = logging.getLogger(__name__)

ERASED_ON = "personal_data_erased_on"
WINDOW_DAYS = 31
"""How many days back a run looks (a job that stopped for up to a month catches up)."""

Database = AsyncDatabase[dict[str, Any]]


def personal_collections(catalog: EventCatalog) -> list[str]:
    """The collections of the aggregates whose events carry personal data."""
    return sorted(
        {t.collection for t in catalog.types.values() if t.collection and personal_fields(t.model)}
    )


def hot_queries(collections: Sequence[str]) -> tuple[HotQuery, ...]:
    return (
        *(
            HotQuery(c, {RETENTION_DAY: "2026-12-01"}, "the retention job: what is due that day")
            for c in collections
        ),
        HotQuery(DATA_KEYS, {"_id": "cases:C-1"}, "ingest and the worker: an aggregate's data key"),
        HotQuery(DATA_KEYS, {CREATED_DAY: "2026-12-01"}, "the retention job: keys made that day"),
    )


async def ensure_indexes(db: Database, collections: Sequence[str]) -> None:
    for collection in collections:
        await db[collection].create_index([(RETENTION_DAY, ASCENDING)], name=RETENTION_DAY)
    await db[DATA_KEYS].create_index([(CREATED_DAY, ASCENDING)], name=CREATED_DAY)


@dataclass
class Purged:
    """What one run erased."""

    aggregates: list[str] = field(default_factory=list)
    """`<collection>:<id>` of each aggregate whose key and private part were purged."""
    orphan_keys: list[str] = field(default_factory=list)
    """Data keys of aggregates that never came to be."""


async def erase(
    db: Database,
    collection: str,
    ids: Sequence[str],
    *,
    today: date,
    keyring: Keyring | None = None,
) -> None:
    """Erase the personal data of these aggregates now: delete their data keys, then remove their
    `private` part and mark them `personal_data: "erased"` (bumping the version, so a worker
    holding an older copy reloads it rather than writing it back)."""
    names = [key_id(collection, i) for i in ids]
    await MongoDataKeys(db).delete(names)
    if keyring is not None:
        keyring.forget(names)
    ops = [
        UpdateOne(
            {"_id": doc_id},
            {
                "$unset": {PRIVATE: "", RETENTION_DAY: ""},
                "$set": {PERSONAL_DATA: ERASED, ERASED_ON: today.isoformat()},
                "$inc": {VERSION: 1},
            },
        )
        for doc_id in ids
    ]
    for start in range(0, len(ops), UPDATE_BATCH):
        await db[collection].bulk_write(ops[start : start + UPDATE_BATCH], ordered=False)


async def purge(
    db: Database,
    collections: Sequence[str],
    *,
    today: date,
    days: int,
    window: int = WINDOW_DAYS,
    keyring: Keyring | None = None,
) -> Purged:
    """Erase every aggregate whose last event was `days` or more (up to `days + window`) days
    before `today`, and the data keys made in those days whose aggregate does not exist."""
    purged = Purged()
    cutoff = today - timedelta(days=days)
    due_days = [(cutoff - timedelta(days=n)).isoformat() for n in range(window + 1)]
    for collection in collections:
        for day in due_days:
            found = await db[collection].find({RETENTION_DAY: day}, {"_id": 1}).to_list(None)
            ids = [doc["_id"] for doc in found]
            if ids:
                await erase(db, collection, ids, today=today, keyring=keyring)
                purged.aggregates += [key_id(collection, i) for i in ids]
    known = set(collections)
    for day in due_days:
        keys = await db[DATA_KEYS].find({CREATED_DAY: day}, {"_id": 1}).to_list(None)
        for doc in keys:
            collection, _, aggregate = str(doc["_id"]).partition(":")
            if collection in known:
                owner = await db[collection].find_one({"_id": aggregate}, {RETENTION_DAY: 1})
                if owner is not None and str(owner.get(RETENTION_DAY, "")) > cutoff.isoformat():
                    continue  # its aggregate is still within its period
            await MongoDataKeys(db).delete([doc["_id"]])
            if keyring is not None:
                keyring.forget([doc["_id"]])
            purged.orphan_keys.append(doc["_id"])
    if purged.aggregates or purged.orphan_keys:
        log.info(
            "personal data purged",
            extra={"aggregates": len(purged.aggregates), "orphan_keys": len(purged.orphan_keys)},
        )
    return purged
