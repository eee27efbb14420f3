"""The search index as a projection, on a fake store: a document is indexed once the store
shows the event applied (`_pos`), an amendment replaces it, a withdrawn notice leaves, a
repealed document stays; the private part is never read; readiness waits at most its bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition

from fazhi.contracts.envelope import CHINA_TZ, new_event
from fazhi.store.projection import position_key
from open_government.config import Settings
from open_government.portal.search import search
from open_government.search.index import READ_FIELDS, SearchIndex
from open_government.search.projection import SearchProjection

TOPIC = "opengov.events"
AT = datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)


class FakeDocuments:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.projections: list[Mapping[str, Any]] = []

    async def find_one(
        self, query: Mapping[str, Any], projection: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        self.projections.append(projection)
        doc = self.docs.get(query["_id"])
        if doc is None:
            return None
        return {"_id": doc["_id"], **{k: v for k, v in doc.items() if k in projection}}


class FakeDatabase(dict[str, FakeDocuments]):
    pass


def _stored(doc_id: str, title: str, body: str, offset: int, **more: Any) -> dict[str, Any]:
    return {
        "_id": doc_id,
        "doc_kind": more.pop("doc_kind", "policy"),
        "title": title,
        "body": body,
        "issuing_unit": "justice",
        "published_at": AT,
        "published_on": "2026-11-30",
        "year": 2026,
        "version": 1,
        "_pos": {position_key(TOPIC, 0): offset},
        "private": {"applicant": "欧阳明轩"},
        **more,
    }


def _event(doc_id: str, kind: str = "opengov.document.published") -> Any:
    return new_event(
        type=kind, source="/units/justice", subject=doc_id, time=AT, data={"document_id": doc_id}
    )


def _projection() -> tuple[SearchProjection, FakeDatabase]:
    projection = SearchProjection(Settings(search_wait_s=30))
    projection.index = SearchIndex(None)
    db = FakeDatabase(documents=FakeDocuments())
    return projection, db


def _ids(projection: SearchProjection, query: str) -> list[str]:
    return [h.doc["_id"] for h in search(projection.index, query).hits]


async def test_a_document_is_indexed_once_the_store_shows_its_event() -> None:
    projection, db = _projection()
    tp = TopicPartition(TOPIC, 0)
    projection._note(_event("D-1"), tp, 7)
    db["documents"].docs["D-1"] = _stored("D-1", "旧标题", "旧内容", 6)  # not projected yet
    assert await projection.settle(db) == 0  # type: ignore[arg-type]
    assert _ids(projection, "旧内容") == []
    db["documents"].docs["D-1"] = _stored("D-1", "共享单车停放通告", "规范共享单车停放秩序", 7)
    assert await projection.settle(db) == 1  # type: ignore[arg-type]
    assert _ids(projection, "停放秩序") == ["D-1"]
    assert not projection._pending


async def test_an_amendment_shows_only_the_new_version_s_words() -> None:
    projection, db = _projection()
    tp = TopicPartition(TOPIC, 0)
    db["documents"].docs["D-1"] = _stored("D-1", "收费办法", "原定标准为每小时五元", 1)
    projection._note(_event("D-1"), tp, 1)
    await projection.settle(db)  # type: ignore[arg-type]
    db["documents"].docs["D-1"] = _stored(
        "D-1", "收费办法（修订）", "调整后每小时三元", 2, version=2
    )
    projection._note(_event("D-1"), tp, 2)
    await projection.settle(db)  # type: ignore[arg-type]
    assert _ids(projection, "五元") == []
    assert _ids(projection, "三元") == ["D-1"]
    assert projection.index is not None
    assert projection.index.size() == 1


async def test_a_withdrawn_notice_leaves_and_a_repealed_document_stays() -> None:
    projection, db = _projection()
    tp = TopicPartition(TOPIC, 0)
    db["documents"].docs["EN-1"] = _stored(
        "EN-1",
        "暴雨红色预警",
        "请市民减少外出",
        3,
        doc_kind="emergency_notice",
        notice_state="active",
    )
    db["documents"].docs["D-2"] = _stored(
        "D-2", "电梯加装办法", "既有住宅加装电梯", 4, doc_kind="normative", validity="repealed"
    )
    projection._note(_event("EN-1"), tp, 3)
    projection._note(_event("D-2", "opengov.document.validity_changed"), tp, 4)
    await projection.settle(db)  # type: ignore[arg-type]
    assert _ids(projection, "减少外出") == ["EN-1"]
    found = search(projection.index, "加装电梯")
    assert [(h.doc["_id"], h.doc["validity"]) for h in found.hits] == [("D-2", "repealed")]
    db["documents"].docs["EN-1"]["notice_state"] = "withdrawn"
    db["documents"].docs["EN-1"]["_pos"] = {position_key(TOPIC, 0): 5}
    projection._note(_event("EN-1"), tp, 5)
    await projection.settle(db)  # type: ignore[arg-type]
    assert _ids(projection, "减少外出") == []


async def test_the_private_part_is_never_read_nor_indexed() -> None:
    projection, db = _projection()
    db["documents"].docs["D-1"] = _stored("D-1", "答复", "关于申请的答复", 1)
    projection._note(_event("D-1"), TopicPartition(TOPIC, 0), 1)
    await projection.settle(db)  # type: ignore[arg-type]
    assert "private" not in READ_FIELDS
    assert all("private" not in p for p in db["documents"].projections)
    assert _ids(projection, "欧阳明轩") == []
    assert _ids(projection, "答复") == ["D-1"]


async def test_an_event_never_projected_is_given_up_after_the_wait() -> None:
    projection, db = _projection()
    projection.settings = Settings(search_wait_s=0.01)
    projection._note(_event("D-9"), TopicPartition(TOPIC, 0), 1)
    await asyncio.sleep(0.02)
    assert await projection.settle(db) == 1  # type: ignore[arg-type]
    assert not projection._pending


def test_the_resume_position_stays_before_any_event_still_waiting() -> None:
    projection, _ = _projection()
    tp = TopicPartition(TOPIC, 0)
    projection._position = {tp: 10, TopicPartition(TOPIC, 1): 4}
    projection._note(_event("D-1"), tp, 7)
    assert projection._safe_position() == {tp: 7, TopicPartition(TOPIC, 1): 4}


def test_readiness_waits_for_the_index_at_most_its_bound() -> None:
    projection = SearchProjection(Settings(search_ready_wait_s=60))
    projection._started = time.monotonic()
    projection.state = "rebuilding"
    assert projection.waiting_for() == "search index rebuilding: 0 documents so far"
    projection._started -= 61
    assert projection.waiting_for() is None
    projection._started = time.monotonic()
    projection.current = True
    assert projection.waiting_for() is None
