"""Data keys and the retention job on the real store: a key is made once however many writers
race for it; the job erases what is past its period (and keys whose aggregate never came to be),
keeps the rest, and a second run changes nothing."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store import retention
from fazhi.store.projection import ERASED, PERSONAL_DATA, PRIVATE, RETENTION_DAY, VERSION
from fazhi.store.sealing import (
    CREATED_DAY,
    DATA_KEYS,
    DEVELOPMENT_MASTER_KEY,
    Keyring,
    MasterKey,
    MongoDataKeys,
)
from tests.support.processes import MONGO, ROOT, scratch_database

pytestmark = pytest.mark.integration

TODAY = date(2026, 12, 1)
DAYS = 30


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    async with scratch_database("test_retention") as fresh:
        yield fresh


def keyring(db: AsyncDatabase[dict[str, Any]]) -> Keyring:
    return Keyring(MongoDataKeys(db), MasterKey(DEVELOPMENT_MASTER_KEY), ttl_s=0)


async def test_racing_writers_make_one_data_key(db: AsyncDatabase[dict[str, Any]]) -> None:
    found = await asyncio.gather(*(keyring(db).get(["cases:C-1"], create=True) for _ in range(12)))
    assert len({keys["cases:C-1"].kid for keys in found}) == 1
    assert await db[DATA_KEYS].count_documents({}) == 1


async def _case(
    db: AsyncDatabase[dict[str, Any]], case_id: str, last_day: str, created_day: str
) -> None:
    await keyring(db).get([f"cases:{case_id}"], create=True)
    await db[DATA_KEYS].update_one(
        {"_id": f"cases:{case_id}"}, {"$set": {CREATED_DAY: created_day}}
    )
    await db["cases"].insert_one(
        {
            "_id": case_id,
            "summary": "申请人张某不服行政处罚决定",
            PRIVATE: {"applicant": {"name": "张三"}, "summary": "申请人张三不服"},
            RETENTION_DAY: last_day,
            VERSION: 3,
        }
    )


async def test_the_job_erases_what_is_past_its_period_and_nothing_else(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await retention.ensure_indexes(db, ["cases"])
    await _case(db, "due", "2026-11-01", "2026-10-01")  # exactly 30 days ago
    await _case(db, "long-due", "2026-10-15", "2026-10-15")  # within the catch-up window
    await _case(db, "recent", "2026-11-02", "2026-10-01")  # 29 days: kept, its key too
    await keyring(db).get(["cases:never-projected"], create=True)
    await db[DATA_KEYS].update_one(
        {"_id": "cases:never-projected"}, {"$set": {CREATED_DAY: "2026-10-20"}}
    )
    await keyring(db).get(["cases:posted-today"], create=True)  # its event may still come

    ring = keyring(db)
    ring.ttl_s = 600
    await ring.get(["cases:due"])
    purged = await retention.purge(db, ["cases"], today=TODAY, days=DAYS, keyring=ring)

    assert sorted(purged.aggregates) == ["cases:due", "cases:long-due"]
    assert purged.orphan_keys == ["cases:never-projected"]
    for case_id in ("due", "long-due"):
        doc = await db["cases"].find_one({"_id": case_id})
        assert doc is not None
        assert PRIVATE not in doc
        assert RETENTION_DAY not in doc
        assert doc[PERSONAL_DATA] == ERASED
        assert doc[retention.ERASED_ON] == TODAY.isoformat()
        assert doc[VERSION] == 4  # a worker holding version 3 reloads rather than write it back
        assert doc["summary"] == "申请人张某不服行政处罚决定"
    recent = await db["cases"].find_one({"_id": "recent"})
    assert recent is not None
    assert recent[PRIVATE]["applicant"]["name"] == "张三"
    left = sorted(doc["_id"] for doc in await db[DATA_KEYS].find({}).to_list(None))
    assert left == ["cases:posted-today", "cases:recent"]
    assert "cases:due" not in await ring.get(["cases:due"])  # forgotten at once

    again = await retention.purge(db, ["cases"], today=TODAY, days=DAYS)
    assert again.aggregates == []
    assert again.orphan_keys == []


async def test_the_cli_runs_the_job_with_the_services_settings(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await _case(db, "due", "2026-11-01", "2026-11-01")
    await _case(db, "recent", "2026-11-20", "2026-11-20")
    env = {
        **os.environ,
        "PETITION_MEDIATION_MONGO_URL": MONGO,
        "PETITION_MEDIATION_MONGO_DB": db.name,
        "PETITION_MEDIATION_PERSONAL_DATA_RETENTION_DAYS": str(DAYS),
    }
    argv = [sys.executable, "-m", "fazhi.cli", "personal-data", "purge"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*argv, "--service", "petition-mediation", "--today", TODAY.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "1 aggregates" in done.stderr
    due = await db["cases"].find_one({"_id": "due"})
    recent = await db["cases"].find_one({"_id": "recent"})
    assert due is not None
    assert recent is not None
    assert due[PERSONAL_DATA] == ERASED
    assert PRIVATE in recent
    assert await db[DATA_KEYS].find_one({"_id": "cases:due"}) is None


async def test_the_cli_rewraps_data_keys_under_a_new_master_key(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    old, new = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()
    made = Keyring(MongoDataKeys(db), MasterKey(old), ttl_s=0)
    before = await made.get(["cases:C-1", "cases:C-2"], create=True)
    env = {
        **os.environ,
        "PETITION_MEDIATION_MONGO_URL": MONGO,
        "PETITION_MEDIATION_MONGO_DB": db.name,
        "PETITION_MEDIATION_MASTER_KEY": new,
        "PETITION_MEDIATION_MASTER_KEY_PREVIOUS": old,
    }
    argv = [sys.executable, "-m", "fazhi.cli", "personal-data", "rewrap"]
    done = await asyncio.to_thread(
        subprocess.run,
        [*argv, "--service", "petition-mediation"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "2 data keys rewrapped" in done.stderr
    after = await Keyring(MongoDataKeys(db), MasterKey(new), ttl_s=0).get(
        ["cases:C-1", "cases:C-2"]
    )
    assert {k: v.kid for k, v in after.items()} == {k: v.kid for k, v in before.items()}
