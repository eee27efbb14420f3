"""The worker's store on the real database: a batch's writes to several collections at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store.projection import VERSION, ConflictError, MongoStore, Save
from tests.support.processes import scratch_database


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    async with scratch_database("test_store_commit") as fresh:
        yield fresh


def new(collection: str, doc_id: str, **fields: Any) -> Save:
    return Save(collection, {"_id": doc_id, VERSION: 1, **fields}, None)


async def test_a_batch_writes_rows_and_documents_of_several_collections(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = MongoStore(db)
    await store.commit(
        [new("findings", "F-1", title="a"), new("items", "finding-F-1", level="blue")],
        [("item_history", {"_id": "finding-F-1~1", "item": "finding-F-1"})],
    )
    assert (await db["findings"].find_one({"_id": "F-1"}) or {})["title"] == "a"
    assert (await db["items"].find_one({"_id": "finding-F-1"}) or {})["level"] == "blue"
    assert await db["item_history"].count_documents({"item": "finding-F-1"}) == 1

    # The same batch again (a replay): the rows are there already, the new documents too.
    with pytest.raises(ConflictError, match=r"findings|items"):
        await store.commit(
            [new("findings", "F-1", title="a"), new("items", "finding-F-1", level="blue")],
            [("item_history", {"_id": "finding-F-1~1", "item": "finding-F-1"})],
        )
    assert await db["item_history"].count_documents({"item": "finding-F-1"}) == 1


async def test_a_stale_document_is_a_conflict_once_every_other_write_has_ended(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = MongoStore(db)
    await store.commit([new("items", "I-1", level="blue")], [])
    stale = Save("items", {"_id": "I-1", VERSION: 2, "level": "red"}, expected_version=7)
    fresh = [new("findings", f"F-{n}", n=n) for n in range(50)]
    with pytest.raises(ConflictError, match="items"):
        await store.commit([stale, *fresh], [])
    # The conflict was raised after the findings' write ended, not while it ran: a batch tried
    # again on what the database holds now never races a write of its first try.
    assert await db["findings"].count_documents({}) == 50
    assert (await db["items"].find_one({"_id": "I-1"}) or {})["level"] == "blue"


async def test_drafts_are_replaced_and_saves_wait_for_what_runs_alongside(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    store = MongoStore(db)
    # A draft is written whatever has its id (a try that did not land left it there).
    await db["audit"].insert_one({"_id": "P~0~7", "outcome": "applied", "seq": 3})
    published: list[str] = []

    async def publish() -> None:
        published.append("derived")

    await store.commit(
        [new("items", "I-1", level="blue")],
        [("item_history", {"_id": "I-1~1", "item": "I-1"})],
        drafts=[("audit", {"_id": "P~0~7", "outcome": "dead_lettered", "seq": 3})],
        alongside=publish,
    )
    assert published == ["derived"]
    assert (await db["audit"].find_one({"_id": "P~0~7"}) or {})["outcome"] == "dead_lettered"
    assert (await db["items"].find_one({"_id": "I-1"}) or {})["level"] == "blue"

    # What runs alongside fails (the broker did not take a derived event): the rows and drafts
    # are written, no document is saved.
    async def refused() -> None:
        raise RuntimeError("not acknowledged")

    with pytest.raises(RuntimeError, match="not acknowledged"):
        await store.commit(
            [new("items", "I-2", level="red")],
            [("item_history", {"_id": "I-2~1", "item": "I-2"})],
            drafts=[("audit", {"_id": "P~0~8", "outcome": "applied", "seq": 4})],
            alongside=refused,
        )
    assert await db["items"].find_one({"_id": "I-2"}) is None
    assert await db["item_history"].count_documents({"item": "I-2"}) == 1
    assert await db["audit"].count_documents({}) == 2
