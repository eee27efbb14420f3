"""The public portal end to end: the services as real processes, a realistic data load posted
through HTTP (and the portal's own form), the pages read by headless Chromium and crawled, the
feeds read by feedparser, and the registry's numbers asked for 50 at once."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlparse

import feedparser
import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.conftest import client_for
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

PORTAL = SERVICES["open-government"]
MEDIATION = SERVICES["petition-mediation"]
NOW = datetime.now(CST).replace(microsecond=0)
APPLICANTS = [
    {"name": "欧阳明轩", "id_number": "610103198503021234", "phone": "13991234567"},
    {"name": "司马晓燕", "id_number": "61010319900707123X", "phone": "18629876543"},
    {"name": "诸葛文博", "id_number": "610113197712125678", "phone": "15109871234"},
]
ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[01][0-9][0-3][0-9]{4}[0-9Xx](?![0-9])"
)
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def _at(days: float = 0) -> str:
    return (NOW + timedelta(days=days)).isoformat()


def _post(http: httpx.Client, posted: dict[str, Any]) -> None:
    response = http.post("/v1/events", **structured(posted))
    assert response.status_code == 202, response.text


def _published(document_id: str, version: int = 1) -> Any:
    def check() -> Any:
        response = httpx.get(f"{PORTAL.url}/v1/publications/{document_id}", timeout=10)
        if response.status_code == 200 and response.json().get("version", 0) >= version:
            return response.json()
        return None

    return wait_until(check, timeout=60, what=f"{document_id} v{version} on the portal")


def publish(
    http: httpx.Client, unit: str, document_id: str, title: str, body: str, **data: Any
) -> None:
    _post(
        http,
        event(
            "opengov.document.published",
            unit,
            document_id,
            {
                "document_id": document_id,
                "doc_kind": data.pop("doc_kind", "policy"),
                "title": title,
                "issuing_unit": unit,
                "body": body,
                "published_at": data.pop("published_at", _at()),
                **data,
            },
        ),
    )


@pytest.fixture(scope="module")
def loaded(services_up: ServiceProcesses, keys: dict[str, str]) -> dict[str, Any]:
    """A realistic day of the portal: registered normative documents (one amended, one
    repealed), a policy, power-list items, news, a catalogued decision with its steps, disclosure
    requests with personal data (posted by a department and through the form), and a
    reconsideration decision published from petition-mediation."""
    run = uuid.uuid4().hex[:6]
    ids: dict[str, Any] = {"run": run}
    with client_for(PORTAL, keys["justice"]) as http:
        numbers = []
        for i in range(3):
            doc_id = f"GF-{run}-{i}"
            issued = http.post(
                "/v1/registry/numbers",
                json={"document_id": doc_id, "unit": "justice", "year": NOW.year},
            )
            assert issued.status_code == 200, issued.text
            numbers.append((doc_id, issued.json()["number"]))
            publish(
                http,
                "justice",
                doc_id,
                f"碑林区行政执法公示办法（第{i + 1}号）",
                "第一条 为推进行政执法公示制度，制定本办法。"
                f"第二条 监督电话 {APPLICANTS[0]['phone']}（值班手机）。",
                doc_kind="normative",
                number=issued.json()["number"],
                made_on=NOW.date().isoformat(),
            )
        ids["numbers"] = numbers
        amended = numbers[0][0]
        publish(
            http,
            "justice",
            amended,
            "碑林区行政执法公示办法（修订）",
            "第一条 为推进行政执法公示制度（修订）。",
            doc_kind="normative",
            number=numbers[0][1],
            version_note="修订第一条",
            published_at=_at(0.01),
        )
        ids["amended"] = amended
        _post(
            http,
            event(
                "opengov.document.validity_changed",
                "justice",
                numbers[2][0],
                {
                    "document_id": numbers[2][0],
                    "validity": "repealed",
                    "changed_at": _at(0.02),
                    "reason": "已被新办法代替",
                },
            ),
        )
        for code, title, kind in (
            ("011001", "对违反行政复议规定行为的处罚", "行政处罚"),
            ("011002", "法律援助机构设立审批", "行政许可"),
        ):
            publish(
                http,
                "justice",
                f"QZ-{run}-{code}",
                title,
                f"{title}：依据有关法律法规实施。",
                doc_kind="power_list",
                code=code,
                basis="《中华人民共和国行政处罚法》",
                item_type=kind,
            )
        publish(
            http,
            "justice",
            f"XW-{run}",
            "区司法局开展“八五”普法宣传进社区活动",
            "活动中，居民诸葛先生咨询了法律问题。",
            doc_kind="news",
        )
        decision = f"MD-{run}"
        _post(
            http,
            event(
                "opengov.decision.listed",
                "justice",
                decision,
                {
                    "decision_id": decision,
                    "year": NOW.year,
                    "title": "碑林区法治政府建设示范创建实施方案",
                    "unit": "justice",
                    "listed_at": _at(),
                },
            ),
        )
        _post(
            http,
            event(
                "opengov.decision.step_recorded",
                "justice",
                decision,
                {
                    "decision_id": decision,
                    "unit": "justice",
                    "step": "public_comment",
                    "status": "done",
                    "started_on": (NOW.date() - timedelta(days=40)).isoformat(),
                    "ended_on": (NOW.date() - timedelta(days=5)).isoformat(),
                    "recorded_at": _at(),
                },
            ),
        )
        ids["decision"] = decision
        for i, applicant in enumerate(APPLICANTS[:2]):
            request = f"R-{run}-{i}"
            _post(
                http,
                event(
                    "opengov.request.received",
                    "justice",
                    request,
                    {
                        "request_id": request,
                        "applicant": applicant,
                        "content": f"{applicant['name']}（电话{applicant['phone']}）申请公开行政复议统计",
                        "channel": "mail",
                        "received_at": _at(),
                    },
                ),
            )
        _post(
            http,
            event(
                "opengov.request.answered",
                "justice",
                f"R-{run}-0",
                {"request_id": f"R-{run}-0", "answer_type": "disclosed", "answered_at": _at(1)},
            ),
        )
    form = {
        "unit": "justice",
        "name": APPLICANTS[2]["name"],
        "id_number": APPLICANTS[2]["id_number"],
        "phone": APPLICANTS[2]["phone"],
        "content": f"本人{APPLICANTS[2]['name']}申请公开2026年度行政执法统计年报",
    }
    submitted = httpx.post(f"{PORTAL.url}/requests", data=form, timeout=10)
    assert submitted.status_code == 303, submitted.text
    ids["tracking"] = submitted.headers["location"].split("/track/")[1].split("?")[0]
    case = f"C-{run}"
    with client_for(MEDIATION, keys["justice"]) as http:
        _post(
            http,
            event(
                "mediation.case.filed",
                "justice",
                case,
                {
                    "case_id": case,
                    "case_type": "reconsideration",
                    "category": "行政处罚",
                    "applicant": {**APPLICANTS[1], "address": "西安市碑林区东大街1号"},
                    "respondent_unit": "market-regulation",
                    "summary": f"申请人{APPLICANTS[1]['name']}不服行政处罚决定",
                    "filed_at": _at(),
                },
            ),
        )
        _post(
            http,
            event(
                "mediation.case.accepted",
                "justice",
                case,
                {"case_id": case, "accepted_at": _at(1), "procedure": "general"},
            ),
        )
        _post(
            http,
            event(
                "mediation.case.decided",
                "justice",
                case,
                {
                    "case_id": case,
                    "decision": "撤销原行政处罚决定",
                    "decided_at": _at(20),
                    "outcome": "revoked",
                    "document_text": (
                        f"申请人：{APPLICANTS[1]['name']}，身份证号{APPLICANTS[1]['id_number']}，"
                        f"电话{APPLICANTS[1]['phone']}，住西安市碑林区东大街1号。"
                        "被申请人：区市场监管局。本机关决定：撤销原行政处罚决定。"
                    ),
                },
            ),
        )
    _published(f"RD-{case}")
    _published(amended, version=2)
    _published(f"XW-{run}")
    ids["reconsideration"] = f"RD-{case}"
    return ids


def test_fifty_concurrent_requests_for_numbers_get_fifty_consecutive_numbers(
    loaded: dict[str, Any], keys: dict[str, str]
) -> None:
    year = NOW.year + 1  # a year no other test numbers

    async def ask_all() -> list[dict[str, Any]]:
        headers = {"authorization": f"Bearer {keys['justice']}"}
        async with httpx.AsyncClient(base_url=PORTAL.url, headers=headers, timeout=30) as http:
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/v1/registry/numbers",
                        json={
                            "document_id": f"N-{loaded['run']}-{i}",
                            "unit": "justice",
                            "year": year,
                        },
                    )
                    for i in range(50)
                )
            )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]
        return [a.json() for a in answers]

    issued = asyncio.run(ask_all())
    assert sorted(n["seq"] for n in issued) == list(range(1, 51))
    assert len({n["number"] for n in issued}) == 50
    assert f"碑司规〔{year}〕50号" in {n["number"] for n in issued}


def _portal_links(html: str, base: str) -> set[str]:
    found = set()
    for href in re.findall(r'href="([^"#]+)"', html):
        url = urljoin(base, href.replace("&amp;", "&"))
        if urlparse(url).netloc == urlparse(PORTAL.url).netloc:
            found.add(url)
    return found


def test_no_portal_page_or_feed_shows_an_id_number_a_mobile_number_or_an_applicant_name(
    loaded: dict[str, Any],
) -> None:
    year = NOW.year
    start = {
        f"{PORTAL.url}{path}"
        for path in (
            "/",
            "/search?q=%E8%A1%8C%E6%94%BF",
            "/search?q=%E5%A4%8D%E8%AE%AE",
            f"/track/{loaded['tracking']}",
            f"/reports/{year}",
            "/v1/search?q=%E5%85%AC%E7%A4%BA",
            f"/v1/publications?year={year}&unit=justice",
            f"/v1/catalogue/{year}",
            f"/v1/tracking/{loaded['tracking']}",
            f"/v1/reports/{year}",
            f"/v1/publications/{loaded['reconsideration']}",
        )
    }
    seen: set[str] = set()
    todo = sorted(start)
    names = [a["name"] for a in APPLICANTS]
    with httpx.Client(timeout=30) as http:
        while todo and len(seen) < 800:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            response = http.get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            text = response.text
            assert not ID_NUMBER.search(text), (url, ID_NUMBER.search(text))
            assert not MOBILE.search(text), (url, MOBILE.search(text))
            for name in names:
                assert name not in text, (url, name)
            if "html" in response.headers.get("content-type", ""):
                todo += sorted(_portal_links(text, url) - seen)
    crawled = {urlparse(u).path for u in seen}
    assert f"/documents/{loaded['reconsideration']}" in crawled
    assert f"/documents/{loaded['amended']}/versions/1" in crawled
    assert "/feeds/all.atom" in crawled
    assert any(p.startswith("/feeds/units/") for p in crawled)
    assert len(seen) > 60


def test_feedparser_reads_every_feed(loaded: dict[str, Any]) -> None:
    for path in (
        "/feeds/all.atom",
        "/feeds/kinds/normative.atom",
        "/feeds/kinds/reconsideration.atom",
        "/feeds/units/justice.atom",
        "/feeds/units/audit.atom",
    ):
        feed = feedparser.parse(httpx.get(f"{PORTAL.url}{path}", timeout=10).content)
        assert feed.bozo == 0, (path, feed.get("bozo_exception"))
        assert feed.version == "atom10"
        assert feed.feed.language == "zh-CN"
    everything = feedparser.parse(httpx.get(f"{PORTAL.url}/feeds/all.atom", timeout=10).content)
    links = [entry.link for entry in everything.entries]
    assert any(link.endswith(f"/documents/{loaded['amended']}") for link in links)
    normative = feedparser.parse(
        httpx.get(f"{PORTAL.url}/feeds/kinds/normative.atom", timeout=10).content
    )
    assert {e.tags[0].term for e in normative.entries} == {"normative"}


async def test_search_finds_a_just_published_document_by_a_two_character_word(
    loaded: dict[str, Any], keys: dict[str, str], page: Page
) -> None:
    doc_id = f"DC-{uuid.uuid4().hex[:8]}"
    with client_for(PORTAL, keys["justice"]) as http:
        publish(
            http,
            "justice",
            doc_id,
            "关于规范共享单车停放秩序的通告",
            "为规范共享单车停放秩序，维护市容环境，现通告如下。",
        )
    _published(doc_id)
    await page.goto(f"{PORTAL.url}/")
    await page.get_by_label("搜索公开信息").fill("单车")
    await page.get_by_role("button", name="搜索").click()
    await page.wait_for_url("**/search?q=*")
    result = page.locator(f'a[href="/documents/{doc_id}"]')
    await result.wait_for()
    assert "单车" in await result.inner_text()
    assert await page.locator("mark", has_text="单车").count() >= 1
    assert await page.locator("html").get_attribute("lang") == "zh-CN"


async def test_the_request_form_submits_without_javascript_and_tracking_shows_the_due_date(
    loaded: dict[str, Any], browser: Browser
) -> None:
    context = await browser.new_context(
        locale="zh-CN", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    try:
        tab = await context.new_page()
        await tab.goto(f"{PORTAL.url}/requests/new")
        await tab.get_by_label("受理机关（必填）").select_option("justice")
        await tab.get_by_label("申请人姓名或名称（必填）").fill("测试申请人")
        await tab.get_by_label("联系电话").fill("029-87654321")
        await tab.get_by_label("所需政府信息", exact=False).fill(
            "申请公开本区2026年度规范性文件清理结果"
        )
        await tab.get_by_role("button", name="提交申请").click()
        await tab.wait_for_url("**/track/YSQ*")
        tracking = tab.url.split("/track/")[1].split("?")[0]
        assert await tab.locator("#expected-due-date, #due-date").count() == 1

        async def registered() -> str | None:
            await tab.goto(f"{PORTAL.url}/track/{tracking}")
            due = tab.locator("#due-date time")
            return await due.get_attribute("datetime") if await due.count() else None

        deadline = asyncio.get_running_loop().time() + 60
        due_date = await registered()
        while due_date is None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
            due_date = await registered()
        assert due_date is not None, "the tracking page never showed the due date"
        assert due_date > NOW.date().isoformat()
        assert await tab.locator("#status").inner_text() == "办理中"
        width = await tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the tracking page scrolls sideways on a phone"
    finally:
        await context.close()


async def test_a_document_page_shows_its_versions(loaded: dict[str, Any], page: Page) -> None:
    await page.goto(f"{PORTAL.url}/documents/{loaded['amended']}")
    versions = page.locator("#versions-h + table tbody tr")
    assert await versions.count() == 2
    assert "（现行）" in await versions.nth(0).inner_text()
    assert "修订第一条" in await versions.nth(0).inner_text()
    await page.get_by_role("link", name="第1版").click()
    await page.wait_for_url("**/versions/1")
    assert await page.locator("h1").inner_text() == "碑林区行政执法公示办法（第1号）（第1版）"
