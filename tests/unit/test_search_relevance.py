"""Relevance of the portal's search over a generated corpus whose best answers are known by
construction: for each of 20 queries, the one document whose title holds it, published years
before the newest, among hundreds of newer documents that hold it (or its words) in their body.
Built through the index's own indexing function, in memory."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from fazhi.contracts.envelope import CHINA_TZ
from open_government.portal.search import Filters, answer, search
from open_government.search.index import SearchIndex

SUBJECTS = ["行政执法", "政务公开", "营商环境", "安全生产", "城市管理", "市场监管", "公共卫生"]
ACTIONS = ["关于加强", "关于进一步规范", "关于印发", "关于开展", "关于做好"]
TAILS = ["工作的通知", "实施方案", "工作要点", "专项行动方案", "的若干措施"]
SENTENCES = [
    "为深入贯彻落实法治政府建设实施纲要，结合本区实际，制定本方案。",
    "各部门要高度重视，明确责任分工，确保各项工作落到实处。",
    "对违反本规定的行为，由有关部门依法予以处理。",
    "坚持依法行政，规范执法程序，提高执法效能。",
]
# (query, what the best answer's title holds); its words are in many newer bodies.
QUERIES = [
    ("共享单车", "共享单车"),
    ("充电桩", "新能源汽车充电桩"),
    ("电梯加装", "既有住宅电梯加装"),
    ("夜间经济", "夜间经济"),
    ("失信惩戒", "失信惩戒"),
    ("听证程序", "听证程序"),
    ("不予处罚", "不予处罚"),
    ("垃圾分类", "垃圾分类"),
    ("物业管理", "物业管理"),
    ("文物保护", "文物保护"),
    ("养老服务", "养老服务"),
    ("住房保障", "住房保障"),
    ("食品安全", "食品安全"),
    ("消防安全", "消防安全"),
    ("\u201c老旧小区改造\u201d", "老旧小区改造"),
    ("行政复议", "行政复议"),
    ("公示", "执法公示"),
    ("停车收费", "停车收费"),
    ("校外培训", "校外培训"),
    ("河长制", "河长制"),
]
NEWEST = datetime(2026, 6, 1, 9, 0, tzinfo=CHINA_TZ)


def _doc(doc_id: str, title: str, body: str, at: datetime, **more: Any) -> dict[str, Any]:
    return {
        "_id": doc_id,
        "doc_kind": more.pop("doc_kind", "policy"),
        "title": title,
        "number": "",
        "issuing_unit": more.pop("issuing_unit", "gov-office"),
        "body": body,
        "published_at": at,
        "published_on": at.date().isoformat(),
        "year": at.year,
        "version": 1,
        **more,
    }


def corpus() -> Iterator[dict[str, Any]]:
    rng = random.Random(25)
    for n in range(600):  # the background: the district's everyday vocabulary
        at = NEWEST - timedelta(hours=7 * n)
        title = f"{rng.choice(ACTIONS)}{rng.choice(SUBJECTS)}{rng.choice(TAILS)}"
        body = "".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 8)))
        yield _doc(f"BG-{n}", title, body, at)
    for q, (_, held) in enumerate(QUERIES):
        # 150 newer documents say it in their body, some several times; none in the title.
        for n in range(150 if q == 0 else 12):
            at = NEWEST - timedelta(days=n % 90, minutes=q)
            body = f"各单位要做好{held}相关工作。" * (1 + n % 3) + rng.choice(SENTENCES)
            title = f"{rng.choice(ACTIONS)}{rng.choice(SUBJECTS)}{rng.choice(TAILS)}"
            yield _doc(f"N-{q}-{n}", title, body, at)
        # The best answer: the only title holding it, published years before the newest.
        at = NEWEST - timedelta(days=365 * (2 + q % 4))
        extra = {"doc_kind": "normative", "validity": "repealed"} if q == 3 else {}
        yield _doc(f"BEST-{q}", f"碑林区{held}管理规定", rng.choice(SENTENCES), at, **extra)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    built = SearchIndex(None)
    built.put(corpus())
    built.commit()
    return built


@pytest.mark.parametrize(("number", "query"), [(n, q) for n, (q, _) in enumerate(QUERIES)])
def test_the_document_whose_title_holds_the_query_ranks_first(
    index: SearchIndex, number: int, query: str
) -> None:
    found = search(index, query)
    assert found.hits, query
    assert found.hits[0].doc["_id"] == f"BEST-{number}", [h.doc["title"] for h in found.hits[:3]]


def test_a_word_in_150_documents_finds_them_all_and_the_old_title_first(index: SearchIndex) -> None:
    found = search(index, "共享单车", limit=10)
    assert found.total == 151
    assert found.hits[0].doc["_id"] == "BEST-0"
    assert found.facets["year"]["2026"] >= 150


def test_a_repealed_document_is_found_and_labelled_so(index: SearchIndex) -> None:
    found = search(index, "夜间经济", Filters(validity="repealed"))
    assert [h.doc["_id"] for h in found.hits] == ["BEST-3"]
    (item,) = answer(found).items
    assert (item.validity, item.validity_label_zh) == ("repealed", "废止")


def test_cursor_pages_cover_every_match_once_in_order(index: SearchIndex) -> None:
    seen: list[str] = []
    scores: list[float] = []
    cursor = None
    while True:
        found = search(index, "共享单车", limit=20, cursor=cursor)
        seen += [h.doc["_id"] for h in found.hits]
        scores += [h.score for h in found.hits]
        cursor = found.next
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 151
    assert scores == sorted(scores, reverse=True)


def test_nothing_found_says_which_filters_to_drop(index: SearchIndex) -> None:
    found = search(index, "共享单车", Filters(kind="news", year=2026))
    assert found.total == 0
    assert found.without == {"kind": 150, "year": 0}
