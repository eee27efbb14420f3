"""Backup and restore of the local store by the runbook's procedure (docs/runbook.md, "Backup and
restore", locally): a `pg_dump` of FerretDB's `ferretdb` database, a master-key rotation after
it, the store lost, the database made again from the dump with FerretDB stopped, and the sealed
personal data on the topics read again with the restored data keys.

It stops FerretDB for the restore, so it runs last (`outage`), like the broker-outage tests.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient

from fazhi.contracts.envelope import new_event
from fazhi.store.sealing import (
    Keyring,
    MasterKey,
    MasterKeyError,
    MongoDataKeys,
    open_value,
    seal_value,
)
from tests.support.processes import MONGO, ROOT, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.outage]

PG_BIN = Path(os.environ.get("FAZHI_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG = ["-h", "127.0.0.1", "-p", os.environ.get("FAZHI_PG_PORT", "15432"), "-U", "postgres"]
AGGREGATE = "cases:C-backup-1"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{' '.join(map(str, args))}:\n{result.stdout}{result.stderr}"
    return result


def rewrap(db_name: str, new: str, old: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PETITION_MEDIATION_MONGO_URL": MONGO,
        "PETITION_MEDIATION_MONGO_DB": db_name,
        "PETITION_MEDIATION_MASTER_KEY": new,
        "PETITION_MEDIATION_MASTER_KEY_PREVIOUS": old,
    }
    argv = ["personal-data", "rewrap", "--service", "petition-mediation"]
    return run(sys.executable, "-m", "fazhi.cli", *argv, env=env)


async def data_key(db_name: str, master: MasterKey, *, create: bool = False) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    try:
        keys = Keyring(MongoDataKeys(client[db_name]), master, ttl_s=0)
        return (await keys.get([AGGREGATE], create=create)).get(AGGREGATE)
    finally:
        await client.close()


def store_answers() -> bool:
    probe: MongoClient[dict[str, Any]] = MongoClient(MONGO, serverSelectionTimeoutMS=2000)
    try:
        probe.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        probe.close()


def test_a_dump_of_the_local_store_reads_sealed_data_again_after_a_key_rotation(
    tmp_path: Path,
) -> None:
    for tool in ("pg_dump", "pg_restore", "dropdb"):
        assert (PG_BIN / tool).exists() or shutil.which(tool), f"{tool} not found in {PG_BIN}"
    db_name = f"test_backup_{uuid.uuid4().hex[:8]}"
    old = base64.b64encode(os.urandom(32)).decode()
    new = base64.b64encode(os.urandom(32)).decode()
    mongo: MongoClient[dict[str, Any]] = MongoClient(MONGO)

    # A case's applicant as the api publishes it: sealed under the case's data key, which only
    # the store keeps, wrapped under the service's master key.
    event = new_event(
        type="mediation.case.filed", source="/units/justice", subject="C-backup-1", data={}
    )
    key = asyncio.run(data_key(db_name, MasterKey(old), create=True))
    sealed = seal_value(key, event, "applicant", {"name": "张三", "phone": "13991234567"})

    try:
        # 1. The backup (runbook): pg_dump of the whole `ferretdb` database, online.
        dump = tmp_path / "ferretdb.dump"
        run(PG_BIN / "pg_dump", *PG, "-Fc", "-f", dump, "ferretdb")

        # 2. The master key is rotated after it: new key, old one as previous, rewrap, old dropped.
        assert "1 data keys rewrapped" in rewrap(db_name, new, old).stderr
        assert asyncio.run(data_key(db_name, MasterKey(new))) is not None

        # 3. The store is lost.
        mongo.drop_database(db_name)
        assert asyncio.run(data_key(db_name, MasterKey(new))) is None

        # 4. The restore (runbook): FerretDB stopped, the database dropped and made again from
        # the dump (--create), the stack started.
        run(ROOT / "scripts" / "stack.sh", "ferretdb-stop")
        try:
            run(PG_BIN / "dropdb", *PG, "--force", "--if-exists", "ferretdb")
            run(PG_BIN / "pg_restore", *PG, "--create", "-d", "postgres", dump)
        finally:
            run(ROOT / "scripts" / "stack.sh", "start")
        wait_until(store_answers, timeout=90, what="FerretDB answering after the restore")

        # 5. The restored data key was wrapped under the key of the backup's day: the current
        # key alone refuses it, the retired one beside it reads it, and a rewrap moves it over.
        with pytest.raises(MasterKeyError):
            asyncio.run(data_key(db_name, MasterKey(new)))
        restored = asyncio.run(data_key(db_name, MasterKey(new, [old])))
        assert open_value(restored, event, "applicant", sealed) == (
            True,
            {"name": "张三", "phone": "13991234567"},
        )
        assert "1 data keys rewrapped" in rewrap(db_name, new, old).stderr
        current = asyncio.run(data_key(db_name, MasterKey(new)))
        assert open_value(current, event, "applicant", sealed)[1]["name"] == "张三"
    finally:
        if store_answers():
            mongo.drop_database(db_name)
        mongo.close()
