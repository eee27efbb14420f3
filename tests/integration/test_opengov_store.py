"""Open-government's store work on the real local store (FerretDB on PostgreSQL): the registry's
numbers under concurrency, the overdue timer's look-up, the search index rebuilt from the store,
and the form's rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.store.codec import encode
from open_government.config import Settings
from open_government.documents.numbers import issue_number
from open_government.domain.requests import receive_request
from open_government.portal.limits import allow
from open_government.portal.search import Filters, search
from open_government.search.index import SearchIndex
from open_government.search.projection import SearchProjection
from open_government.store import DOCUMENTS, REQUESTS, ensure_indexes
from tests.support.processes import KAFKA, MONGO, scratch_database

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    async with scratch_database("test_opengov_store") as fresh:
        await ensure_indexes(fresh)
        yield fresh


async def test_fifty_concurrent_requests_get_fifty_distinct_consecutive_numbers(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    # Five clients (five connection pools), ten requests each, all at once.
    clients = [AsyncMongoClient[dict[str, Any]](MONGO, tz_aware=True) for _ in range(5)]
    try:
        issued = await asyncio.gather(
            *(
                issue_number(
                    clients[i % 5][db.name],
                    unit="gov-office",
                    year=2026,
                    document_id=f"D-{i}",
                    at=AT,
                )
                for i in range(50)
            )
        )
    finally:
        for client in clients:
            await client.close()
    assert sorted(n["seq"] for n in issued) == list(range(1, 51))
    assert len({n["number"] for n in issued}) == 50
    assert {n["number"] for n in issued} >= {"碑政规〔2026〕1号", "碑政规〔2026〕50号"}
    other = await issue_number(db, unit="gov-office", year=2027, document_id="D-2027", at=AT)
    assert other["number"] == "碑政规〔2027〕1号"


async def test_a_document_keeps_its_number_when_asked_again_concurrently(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    again = await asyncio.gather(
        *(
            issue_number(db, unit="justice", year=2026, document_id="D-same", at=AT)
            for _ in range(8)
        )
    )
    assert {n["number"] for n in again} == {"碑司规〔2026〕1号"}
    following = await issue_number(db, unit="justice", year=2026, document_id="D-next", at=AT)
    assert following["seq"] == 2


async def _request(db: AsyncDatabase[dict[str, Any]], request_id: str, received: date) -> None:
    request = receive_request(request_id, "online", received)  # type: ignore[arg-type]
    await db[REQUESTS].insert_one(
        {
            "_id": request_id,
            "unit": "justice",
            "status": "received",
            "due_date": request.due_on.isoformat(),
            "request": encode(request),
        }
    )


async def test_the_timer_finds_requests_past_their_due_date_once_each(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    from fazhi.bus.publisher import FakePublisher
    from fazhi.bus.timers import TimerContext
    from open_government.config import Settings
    from open_government.requests.timer import OVERDUE

    timer = TimerContext(Settings(), db, FakePublisher())

    await _request(db, "R-late", date(2026, 9, 25))  # due 2026-10-29
    await _request(db, "R-fresh", date(2026, 11, 20))
    await db[REQUESTS].insert_one(
        {"_id": "R-answered", "status": "answered", "due_date": "2026-10-29", "request": {}}
    )
    found = await OVERDUE.look(timer, datetime(2026, 10, 30, tzinfo=CHINA_TZ))
    assert [(e.subject, e.data["days_overdue"]) for e in found] == [("R-late", 1)]
    later = await OVERDUE.look(timer, datetime(2026, 11, 5, tzinfo=CHINA_TZ))
    assert [e.id for e in later] == [e.id for e in found]  # the same event, found again
    assert later[0].data["due_date"] == "2026-10-29"


async def _publish(db: AsyncDatabase[dict[str, Any]], doc_id: str, **doc: Any) -> None:
    await db[DOCUMENTS].insert_one(
        {
            "_id": doc_id,
            "published_at": AT,
            "published_on": "2026-11-30",
            "year": 2026,
            "private": {"note": "欧阳明轩"},
            **doc,
        }
    )


async def test_search_finds_by_a_two_character_word_ranks_filters_and_highlights(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await _publish(
        db,
        "D-1",
        title="碑林区行政复议工作规定",
        body="为规范行政复议工作制定本规定。",
        doc_kind="normative",
        issuing_unit="justice",
    )
    await _publish(
        db,
        "D-2",
        title="关于加强执法监督的通知",
        body="各部门应当依法办理行政复议答复。",
        doc_kind="policy",
        issuing_unit="gov-office",
    )
    await _publish(
        db, "D-3", title="政务公开要点", body="无关内容", doc_kind="news", issuing_unit="justice"
    )
    for i in range(30):
        await _publish(
            db,
            f"F-{i}",
            title=f"行政执法公示{i}",
            body="行政执法",
            doc_kind="enforcement",
            issuing_unit="justice",
        )
    # The api's index, rebuilt from the store as a starting replica does (by year, equality).
    projection = SearchProjection(
        Settings(kafka_bootstrap=KAFKA, mongo_url=MONGO, mongo_db=db.name, worker_group="t")
    )
    await projection._rebuild(db)
    index = projection.index
    assert isinstance(index, SearchIndex)
    assert index.size() == 33
    found = search(index, "复议")
    assert [hit.doc["_id"] for hit in found.hits] == ["D-1", "D-2"]  # the title match first
    assert found.hits[0].title_html == "碑林区行政<mark>复议</mark>工作规定"
    assert "<mark>复议</mark>" in found.hits[1].snippet_html
    assert found.facets["kind"] == {"normative": 1, "policy": 1}
    assert [h.doc["_id"] for h in search(index, "复议", Filters(kind="policy")).hits] == ["D-2"]
    assert search(index, "复议", Filters(unit="justice", year=2025)).total == 0
    # "行政复议" is found whole, in a title and in a body, not by 行政 (in every document).
    phrase = search(index, "行政复议")
    assert {h.doc["_id"] for h in phrase.hits} == {"D-1", "D-2"}
    assert search(index, "欧阳明轩").total == 0  # the private part is never indexed
    await projection.stop()


async def test_the_request_form_is_rate_limited_per_client(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    results = [await allow(db, "client-a", AT, limit=3, window_s=600) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert await allow(db, "client-b", AT, limit=3, window_s=600)
    assert await allow(db, "client-a", AT + timedelta(minutes=11), limit=3, window_s=600)


async def test_concurrent_submissions_of_one_client_get_exactly_the_limit(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    results = await asyncio.gather(
        *(allow(db, "client-c", AT, limit=5, window_s=600) for _ in range(30))
    )
    assert results.count(True) == 5
