"""The portal's search end to end, in Chromium: a document published through `POST /v1/events`
is found by a word of its body within 2 s (Kafka, the worker's projection, the api's index), an
amendment leaves only the new version's words findable, and a facet link narrows the results."""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page

from tests.conftest import client_for
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured

pytestmark = pytest.mark.e2e

PORTAL = SERVICES["open-government"]
FOUND_WITHIN_S = 2.0


def _word() -> str:
    """Four characters no other document of the run holds (rare CJK characters, at random)."""
    rng = random.SystemRandom()
    return "".join(chr(rng.randrange(0x5A00, 0x5F00)) for _ in range(4))


def _publish(
    keys: dict[str, str], document_id: str, title: str, body: str, kind: str = "policy"
) -> float:
    """Post the document; the time the api accepted it (202)."""
    data: dict[str, Any] = {
        "document_id": document_id,
        "doc_kind": kind,
        "title": title,
        "issuing_unit": "justice",
        "body": body,
        "published_at": datetime.now(CST).isoformat(),
    }
    with client_for(PORTAL, keys["justice"]) as http:
        response = http.post(
            "/v1/events",
            **structured(event("opengov.document.published", "justice", document_id, data)),
        )
    assert response.status_code == 202, response.text
    return time.monotonic()


async def _results(page: Page, query: str) -> list[str]:
    await page.goto(f"{PORTAL.url}/search?q={quote(query)}")
    links = page.locator("ol.results h3 a")
    return [str(await a.get_attribute("href")) for a in await links.all()]


async def _found_within(page: Page, query: str, href: str, since: float, limit: float) -> float:
    """Search in the page until `href` is among the results; how long after `since` it was."""
    while True:
        if href in await _results(page, query):
            return time.monotonic() - since
        assert time.monotonic() - since < limit, f"{href} not found by {query!r} in {limit} s"
        await page.wait_for_timeout(50)


async def test_a_published_document_is_found_by_a_word_of_its_body_within_2_s(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    word = _word()
    doc_id = f"SE-{word.encode().hex()[:12]}"
    accepted = _publish(
        keys, doc_id, "关于推进示范区建设的通知", f"为推进{word}示范区建设，现通知如下。"
    )
    took = await _found_within(page, word, f"/documents/{doc_id}", accepted, FOUND_WITHIN_S)
    assert took <= FOUND_WITHIN_S
    assert await page.locator("mark", has_text=word).count() >= 1
    assert await page.locator("html").get_attribute("lang") == "zh-CN"


async def test_an_amendment_shows_only_the_new_version_s_words(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    old, new = _word(), _word()
    doc_id = f"SA-{old.encode().hex()[:12]}"
    href = f"/documents/{doc_id}"
    accepted = _publish(keys, doc_id, "停车收费管理办法", f"原定收费标准见{old}附件。")
    await _found_within(page, old, href, accepted, 30)
    accepted = _publish(keys, doc_id, "停车收费管理办法（修订）", f"调整后的收费标准见{new}附件。")
    await _found_within(page, new, href, accepted, 30)
    assert await _results(page, old) == []
    assert await page.get_by_text("没有找到").count() >= 1
    async with httpx.AsyncClient(base_url=PORTAL.url, timeout=10) as http:
        answer = (await http.get("/v1/search", params={"q": new})).json()
    assert [(i["document_id"], i["version"]) for i in answer["items"]] == [(doc_id, 2)]


async def test_a_facet_link_narrows_the_results(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    word = _word()
    policy, news = f"SF-{word.encode().hex()[:10]}-p", f"SF-{word.encode().hex()[:10]}-n"
    _publish(keys, policy, "垃圾分类工作方案", f"{word}垃圾分类工作方案全文。", kind="policy")
    accepted = _publish(keys, news, "垃圾分类宣传周", f"{word}垃圾分类宣传周活动。", kind="news")
    await _found_within(page, word, f"/documents/{news}", accepted, 30)
    await _found_within(page, word, f"/documents/{policy}", accepted, 30)
    assert sorted(await _results(page, word)) == sorted(
        [f"/documents/{policy}", f"/documents/{news}"]
    )
    facets = page.get_by_role("navigation", name="按条件筛选")
    await facets.get_by_role("link", name="新闻动态").click()
    await page.wait_for_url("**/search?*kind=news*")
    shown = [
        str(await a.get_attribute("href")) for a in await page.locator("ol.results h3 a").all()
    ]
    assert shown == [f"/documents/{news}"]
    assert await page.get_by_text("找到 1 条结果").count() == 1
    # The chosen filter is shown, and its link takes it off again.
    await page.get_by_role("link", name="类别：新闻动态 ×").click()
    await page.wait_for_url(f"**/search?q={quote(word)}")
    assert len(await _results(page, word)) == 2
