"""Every page is a Jinja2 template with its script and style in static files: the dashboard, its
panel and the annual report, the staff console and the portal, rendered without servers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from emergency.api import create_app as emergency_app
from fazhi.bus.publisher import FakePublisher
from fazhi.contracts import emergency as emergency_contract
from fazhi.contracts import supervision as supervision_contract
from fazhi.contracts.envelope import CHINA_TZ
from open_government.api import create_app as opengov_app
from supervision.api import create_app as supervision_app
from supervision.reports import markdown_blocks
from tests.support.fakestore import FakeCollection, FakeDatabase, fake_runtime

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [
    ROOT / "services/supervision/src/supervision/static/dashboard.js",
    ROOT / "services/emergency/src/emergency/console/static/console.js",
]
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, ...
    re.compile(r"javascript:", re.I),
]


def client(create: Callable[..., FastAPI], db: FakeDatabase) -> httpx.AsyncClient:
    app = create(publisher=FakePublisher())
    app.state.runtime = fake_runtime(db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def inline_parts(html: str) -> list[str]:
    return [m.group(0) for pattern in INLINE for m in pattern.finditer(html)]


def opened(item_id: str, level: str, title: str, at: datetime) -> dict[str, object]:
    return {
        "_id": item_id,
        "kind": "inspection_finding",
        "unit": "justice",
        "level": level,
        "status": "open",
        "title": title,
        "opened_at": at,
        "opened_year": at.year,
        "source_event_ids": [f"e-{item_id}"],
        "owner_units": ["justice"],
    }


@pytest.fixture
def supervision_db() -> FakeDatabase:
    db = FakeDatabase()
    db["items"] = FakeCollection(
        [
            opened(
                "finding-F1",
                "red",
                "执法记录<script>alert(1)</script>",
                datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ),
            ),
            opened("finding-F2", "orange", "占道经营", datetime(2026, 7, 2, 9, tzinfo=CHINA_TZ)),
        ]
    )
    db["tasks"] = FakeCollection(
        [{"_id": "M18-D1", "kind": "milestone", "unit": "justice", "overdue": True}]
    )
    return db


@pytest.fixture
async def supervision(supervision_db: FakeDatabase) -> AsyncIterator[httpx.AsyncClient]:
    async with client(supervision_app, supervision_db) as http:
        yield http


async def test_the_dashboard_is_a_template_naming_the_stream_types_from_the_contract(
    supervision: httpx.AsyncClient,
) -> None:
    response = await supervision.get("/dashboard")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    for selector in ('id="key"', 'id="keyerror"', 'id="keyform"', 'id="panel"', 'id="live"'):
        assert selector in html
    assert '<script src="/static/dashboard.js" defer></script>' in html
    assert inline_parts(html) == []
    types = json.loads(re.search(r"data-types='([^']*)'", html).group(1))  # type: ignore[union-attr]
    contract = supervision_contract.CONTRACT.types
    assert set(types) <= set(contract)
    assert {"supervision.item.opened", "supervision.task.overdue"} <= set(types)
    assert types["supervision.item.opened"] == "立项督办"
    steps = json.loads(re.search(r"data-steps='([^']*)'", html).group(1))  # type: ignore[union-attr]
    assert steps == {"supervise": "督办", "interview": "约谈", "public_notice": "通报"}


def test_the_scripts_name_no_event_type_and_parse() -> None:
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"[\"'`](supervision|emergency)\.[a-z_]+\.[a-z_]+", text), script


async def test_the_panel_lists_levels_overdue_units_and_the_newest_items_escaped(
    supervision: httpx.AsyncClient,
) -> None:
    assert (await supervision.get("/dashboard/panel")).status_code == 401
    denied = await supervision.get("/dashboard/panel", headers={"authorization": "Bearer justice"})
    assert denied.status_code == 403
    response = await supervision.get(
        "/dashboard/panel", headers={"authorization": "Bearer supervisor"}
    )
    assert response.status_code == 200
    html = response.text
    levels = re.findall(
        r'<li class="level-(\w+)" data-level="\1">(\w+)<strong>(\d+)</strong>', html
    )
    assert levels == [
        ("red", "红色", "1"),
        ("orange", "橙色", "1"),
        ("yellow", "黄色", "0"),
        ("blue", "蓝色", "0"),
    ]
    assert '<tr data-unit="justice"><td>区司法局</td><td>1</td></tr>' in html
    newest = re.findall(r'<li data-item-id="([^"]+)" class="level-(\w+)" tabindex="0"', html)
    assert newest == [("finding-F2", "orange"), ("finding-F1", "red")]
    assert "<time>2026-07-02 09:00</time>" in html
    assert "暂无待验收事项" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert inline_parts(html) == []


async def test_an_item_is_rendered_with_its_facts_and_history_in_order_and_escaped(
    supervision: httpx.AsyncClient, supervision_db: FakeDatabase
) -> None:
    (item,) = (d for d in supervision_db["items"].docs if d["_id"] == "finding-F1")
    item.update(escalation="interview", due_at=datetime(2026, 7, 16, 23, 59, tzinfo=CHINA_TZ))
    at = datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ)
    supervision_db["item_history"] = FakeCollection(
        [
            {
                "_id": "h2",
                "item_id": "finding-F1",
                "seq": 7,
                "change": "escalated",
                "type": "supervision.item.escalated",
                "escalation": "interview",
                "reason": "逾期<b>未整改</b>",
                "time": at.replace(day=20),
            },
            {
                "_id": "h1",
                "item_id": "finding-F1",
                "seq": 0,
                "change": "opened",
                "type": "supervision.item.opened",
                "time": at,
            },
            {"_id": "h3", "item_id": "finding-F2", "seq": 0, "change": "opened", "time": at},
        ]
    )
    path = "/dashboard/items/finding-F1"
    assert (await supervision.get(path)).status_code == 401
    denied = await supervision.get(path, headers={"authorization": "Bearer justice"})
    assert denied.status_code == 403
    response = await supervision.get(path, headers={"authorization": "Bearer supervisor"})
    assert response.status_code == 200
    html = response.text
    assert inline_parts(html) == []
    assert "执法记录&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<dd class="unit">区司法局</dd>' in html
    assert '<dd class="status">待整改</dd>' in html
    assert '<dd class="escalation">约谈</dd>' in html
    assert "<dd>2026-07-16 23:59</dd>" in html
    rows = re.findall(
        r'<li data-change="(\w+)"><time>([^<]+)</time> <strong>([^<]+)</strong>', html
    )
    assert rows == [
        ("opened", "2026-07-01 09:00", "立项督办"),
        ("escalated", "2026-07-20 09:00", "升级"),
    ]
    assert "至约谈：逾期&lt;b&gt;未整改&lt;/b&gt;" in html
    unknown = await supervision.get(
        "/dashboard/items/finding-none", headers={"authorization": "Bearer supervisor"}
    )
    assert unknown.status_code == 404
    assert "尚未入库" in unknown.text


async def test_an_item_offers_the_actions_its_status_accepts_as_the_keys_unit(
    supervision: httpx.AsyncClient, supervision_db: FakeDatabase
) -> None:
    """Rectifying: accept (a note may be left out) or reopen (a reason is required); closed:
    reopen only; open: nothing to decide yet. The forms post as the key's unit."""
    items = {d["_id"]: d for d in supervision_db["items"].docs}
    items["finding-F1"]["status"] = "rectifying"
    items["finding-F2"].update(status="closed", resolution="accepted")
    reopened = opened("finding-F3", "blue", "待整改", datetime(2026, 7, 3, 9, tzinfo=CHINA_TZ))
    # Reopened after an acceptance: the stored resolution and report are the closing's past.
    reopened.update(resolution="accepted", rectification={"note": "旧整改报告"})
    supervision_db["items"].docs.append(reopened)

    async def forms(item_id: str) -> list[tuple[str, str, str, str, bool]]:
        html = (
            await supervision.get(
                f"/dashboard/items/{item_id}", headers={"authorization": "Bearer supervisor"}
            )
        ).text
        found = re.findall(
            r'<form class="act" data-type="([^"]+)" data-source="([^"]+)" data-item="([^"]+)" '
            r'data-time-field="\w+" data-text-field="(\w+)">\s*<label>[^<]*<textarea[^>]*?'
            r"( required)?>",
            html,
        )
        return [(t, src, item, field, bool(req)) for t, src, item, field, req in found]

    assert await forms("finding-F1") == [
        ("supervision.item.accepted", "/units/gov-office", "finding-F1", "note", False),
        ("supervision.item.reopened", "/units/gov-office", "finding-F1", "reason", True),
    ]
    assert await forms("finding-F2") == [
        ("supervision.item.reopened", "/units/gov-office", "finding-F2", "reason", True),
    ]
    assert await forms("finding-F3") == []
    closed = await supervision.get(
        "/dashboard/items/finding-F2", headers={"authorization": "Bearer supervisor"}
    )
    assert "<dd>整改经验收通过</dd>" in closed.text
    again = await supervision.get(
        "/dashboard/items/finding-F3", headers={"authorization": "Bearer supervisor"}
    )
    assert "办结情况" not in again.text
    assert "旧整改报告" not in again.text

    panel = (
        await supervision.get("/dashboard/panel", headers={"authorization": "Bearer supervisor"})
    ).text
    awaiting = panel[panel.index('id="rectifying"') : panel.index('id="newest"')]
    assert re.findall(r'data-item-id="([^"]+)"', awaiting) == ["finding-F1"]


async def test_the_annual_report_page_is_a_template(supervision: httpx.AsyncClient) -> None:
    response = await supervision.get(
        "/v1/reports/annual/2026", headers={"authorization": "Bearer supervisor"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<h1>碑林区2026年法治政府建设年度报告（草稿）</h1>" in html
    assert "<h2>三、督查督办</h2>" in html
    assert '<link rel="stylesheet" href="/static/report.css">' in html
    assert inline_parts(html) == []


def test_the_report_markdown_becomes_blocks() -> None:
    text = "# 标题\n\n段落<b>\n- 一\n- 二\n| 单位 | 数 |\n|---|---|\n| 司法局 | 3 |\n## 小节"
    assert markdown_blocks(text) == [
        {"kind": "h1", "text": "标题"},
        {"kind": "p", "text": "段落<b>"},
        {"kind": "ul", "entries": ["一", "二"]},
        {"kind": "table", "head": ["单位", "数"], "rows": [["司法局", "3"]]},
        {"kind": "h2", "text": "小节"},
    ]


async def test_static_files_are_served_with_their_type_and_revalidated(
    supervision: httpx.AsyncClient,
) -> None:
    script = await supervision.get("/static/dashboard.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.text == SCRIPTS[0].read_text(encoding="utf-8")
    again = await supervision.get(
        "/static/dashboard.js", headers={"if-none-match": script.headers["etag"]}
    )
    assert again.status_code == 304
    style = await supervision.get("/static/dashboard.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    for name in ("nope.js", "..%2Fpages.py", "dashboard.html", "%2e%2e"):
        missing = await supervision.get(f"/static/{name}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


async def test_the_console_is_a_template_naming_the_alert_types_from_the_contract() -> None:
    async with client(emergency_app, FakeDatabase()) as http:
        response = await http.get("/console")
        assert response.status_code == 200
        html = response.text
        assert '<html lang="zh-CN">' in html
        assert "<title>应急值守台 · 碑林区突发事件应对</title>" in html
        for selector in (
            'id="login"',
            'id="key"',
            'id="staff"',
            'id="login-error"',
            'id="levels"',
            'id="live" data-state="off"',
        ):
            assert selector in html
        assert inline_parts(html) == []
        types = json.loads(re.search(r"data-types='([^']*)'", html).group(1))  # type: ignore[union-attr]
        assert types == {
            "issued": "emergency.alert.issued",
            "acknowledged": "emergency.alert.acknowledged",
            "escalated": "emergency.alert.escalated",
            "expired": "emergency.alert.expired",
        }
        assert set(types.values()) <= set(emergency_contract.CONTRACT.types)
        script = await http.get("/static/console.js")
        assert script.text == SCRIPTS[1].read_text(encoding="utf-8")
        assert (await http.get("/static/console.css")).status_code == 200


PORTAL_PAGES = [
    "/",
    "/search",
    "/search?q=复议",
    "/documents/D1",
    "/documents/D1/versions/1",
    "/documents/nope",
    "/kinds/normative",
    "/kinds/power_list",
    "/units/justice",
    "/cleanup",
    "/decisions",
    "/decisions/MD1",
    "/requests/new",
    "/track",
    "/track/YSQ20260701-ABCDEFGH",
    "/reports/2026",
    "/feeds",
]


@pytest.fixture
async def portal() -> AsyncIterator[httpx.AsyncClient]:
    db = FakeDatabase()
    db["documents"] = FakeCollection(
        [
            {
                "_id": "D1",
                "title": "行政复议<办法>",
                "body": "正文",
                "doc_kind": "normative",
                "issuing_unit": "justice",
                "year": 2026,
                "version": 1,
                "published_on": "2026-07-01",
                "published_at": datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ),
                "first_published_at": datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ),
                "tokens": ["复议"],
            }
        ]
    )
    db["document_versions"] = FakeCollection(
        [
            {
                "document_id": "D1",
                "version": 1,
                "title": "行政复议<办法>",
                "body": "正文",
                "published_at": datetime(2026, 7, 1, 9, tzinfo=CHINA_TZ),
            }
        ]
    )
    db["decisions"] = FakeCollection(
        [{"_id": "MD1", "title": "老旧小区改造", "year": 2026, "unit": "gov-office"}]
    )
    async with client(opengov_app, db) as http:
        yield http


@pytest.mark.parametrize("path", PORTAL_PAGES)
async def test_every_portal_page_uses_the_public_layout_and_its_stylesheet(
    portal: httpx.AsyncClient, path: str
) -> None:
    response = await portal.get(path)
    assert response.status_code in (200, 404), response.text
    html = response.text
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in html
    assert '<link rel="stylesheet" href="/static/portal.css">' in html
    assert inline_parts(html) == []
    if path == "/documents/D1":
        assert "<h1>行政复议&lt;办法&gt;</h1>" in html
    style = await portal.get("/static/portal.css")
    assert style.status_code == 200
    assert "header{background:#8b1a1a" in style.text
