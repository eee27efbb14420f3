"""The supervisor dashboard in headless Chromium: the page asks for a key once (kept in the
tab's sessionStorage), shows the server-rendered panel, and a new item appears without a reload."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page

from fazhi.contracts.supervision import Escalation, ItemStatus
from fazhi.rules.units import find_unit
from tests.conftest import client_for
from tests.support.processes import CST, SERVICES, ServiceProcesses, event, structured, wait_until

pytestmark = pytest.mark.e2e

SUPERVISION = SERVICES["supervision"]


def _record_finding(
    key: str, title: str, target_unit: str = "urban-management", **data: str
) -> str:
    """A supervisor records an inspection finding (due in 15 days); the id of its item."""
    finding_id = f"F-{uuid.uuid4().hex[:8]}"
    now = datetime.now(CST)
    trigger = event(
        "supervision.finding.recorded",
        "gov-office",
        finding_id,
        {
            "finding_id": finding_id,
            "target_unit": target_unit,
            "title": title,
            "due_date": (now.date() + timedelta(days=15)).isoformat(),
            "recorded_at": now.isoformat(),
            **data,
        },
    )
    with client_for(SUPERVISION, key) as http:
        response: httpx.Response = http.post("/v1/events", **structured(trigger))
        assert response.status_code == 202, response.text
    return f"finding-{finding_id}"


def _rectified_finding(keys: dict[str, str], title: str, note: str) -> str:
    """A finding against `justice`, whose rectification `justice` then reports from its own
    system; the id of its item, once it awaits acceptance."""
    item_id = _record_finding(keys["supervisor"], title, target_unit="justice")
    with client_for(SUPERVISION, keys["supervisor"]) as http:
        wait_until(
            lambda: http.get(f"/v1/items/{item_id}").status_code == 200,
            timeout=30,
            what="the finding's item",
        )
        rectified = event(
            "supervision.item.rectified",
            "justice",
            item_id,
            {
                "item_id": item_id,
                "unit": "justice",
                "rectified_at": datetime.now(CST).isoformat(),
                "note": note,
            },
        )
        with client_for(SUPERVISION, keys["justice"]) as unit:
            assert unit.post("/v1/events", **structured(rectified)).status_code == 202
        wait_until(
            lambda: http.get(f"/v1/items/{item_id}").json()["status"] == "rectifying",
            timeout=30,
            what="rectifying",
        )
    return item_id


async def _sign_in(page: Page, key: str) -> None:
    """The dashboard, entered with `key`."""
    await page.goto(f"{SUPERVISION.url}/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")


async def _open_awaiting(page: Page, key: str, item_id: str) -> Locator:
    """The dashboard, entered with `key`, and the dialog of `item_id` from the 待验收 list."""
    await _sign_in(page, key)
    await page.click(f"#rectifying li[data-item-id='{item_id}']")
    dialog = page.locator("dialog#item[open]")
    await dialog.locator("article[data-status=rectifying]").wait_for()
    return dialog


async def test_a_new_item_appears_on_the_dashboard_without_reloading(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    await page.goto(f"{SUPERVISION.url}/dashboard")
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    hint = "getComputedStyle(document.getElementById('live'), '::before').content"
    assert "尚无新动态" in await page.evaluate(hint)  # an empty live list says what will come
    await page.fill("#key", keys["justice"])  # a department key may not follow the dashboard
    await page.click("button[type=submit]")
    await page.wait_for_selector("#keyerror:has-text('无督查权限')")
    await page.fill("#key", keys["supervisor"])
    await page.click("button[type=submit]")
    await page.wait_for_selector("#levels li[data-level=red]")
    await page.wait_for_selector("body[data-live='1']")
    assert (
        await page.evaluate("sessionStorage.getItem('fazhi.supervision.key')") == keys["supervisor"]
    )
    await page.evaluate("window.sameDocument = true")

    item_id = _record_finding(keys["supervisor"], "占道经营执法记录不全", level="orange")
    await page.wait_for_selector(f"#live li[data-item-id='{item_id}']", timeout=15_000)
    assert await page.evaluate(hint) == "none"
    # The server-rendered panel follows too: the newest items list the new one.
    await page.wait_for_selector(f"#newest li[data-item-id='{item_id}']", timeout=15_000)
    assert "占道经营执法记录不全" in await page.inner_text(f"#newest li[data-item-id='{item_id}']")
    assert await page.evaluate("window.sameDocument") is True  # no reload happened


async def test_the_live_list_and_the_newest_items_show_the_same_china_time(
    services_up: ServiceProcesses, keys: dict[str, str], browser: Browser
) -> None:
    """A supervisor abroad (the browser in New York's zone) reads the same time for an item in
    the live list as in the panel's newest items: China time, in both."""
    context = await browser.new_context(locale="zh-CN", timezone_id="America/New_York")
    try:
        page = await context.new_page()
        page.set_default_timeout(10_000)
        await _sign_in(page, keys["supervisor"])
        await page.wait_for_selector("body[data-live='1']")
        now = datetime.now(CST)
        item = f"li[data-item-id='{_record_finding(keys['supervisor'], '执法公示不及时')}'] time"
        live = await page.wait_for_selector(f"#live {item}", timeout=15_000)
        newest = await page.wait_for_selector(f"#newest {item}", timeout=15_000)
        assert await live.inner_text() == await newest.inner_text()
        # Both read China time: within a minute or two of now in Beijing, not New York.
        shown = datetime.strptime(await live.inner_text(), "%Y-%m-%d %H:%M").replace(tzinfo=CST)
        assert abs((shown - now).total_seconds()) < 180
    finally:
        await context.close()


async def test_an_item_opens_with_its_facts_and_history(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    """A supervisor clicks an item of the panel's newest items and reads, in a dialog, what it
    is about, which unit answers for it, where it stands on the ladder and what happened to it;
    the dialog closes and the page stays as it was."""
    await _sign_in(page, keys["supervisor"])
    await page.wait_for_selector("body[data-live='1']")
    item_id = _record_finding(keys["supervisor"], "行政执法案卷归档不规范", level="yellow")
    entry = await page.wait_for_selector(f"#newest li[data-item-id='{item_id}']", timeout=15_000)
    await entry.click()
    dialog = page.locator("dialog#item[open]")
    await dialog.locator(f"article[data-item-id='{item_id}']").wait_for()
    assert "行政执法案卷归档不规范" in await dialog.locator("h2").inner_text()
    assert "黄色" in await dialog.locator("h2").inner_text()
    unit = find_unit("urban-management")
    assert unit is not None
    assert await dialog.locator("dd.unit").inner_text() == unit.name
    assert await dialog.locator("dd.status").inner_text() == ItemStatus.OPEN.label_zh
    assert await dialog.locator("dd.escalation").inner_text() == Escalation.SUPERVISE.label_zh
    opened = dialog.locator("ol.history li[data-change=opened]")
    assert "立项督办" in await opened.inner_text()
    await page.click("#itemclose")
    await page.wait_for_selector("dialog#item:not([open])", state="attached")

    # The fragment is a supervisor's read, like the panel: a department key is refused, and an
    # id no item has answers 404.
    with client_for(SUPERVISION, keys["justice"]) as http:
        assert http.get(f"/dashboard/items/{item_id}").status_code == 403
    with client_for(SUPERVISION, keys["supervisor"]) as http:
        assert http.get("/dashboard/items/finding-F-none").status_code == 404


async def test_a_supervisor_accepts_a_rectification_in_the_dialog(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    """A unit reports its rectification from its own system; the item waits on the dashboard
    among those to accept; the supervisor opens it, reads the report, accepts it with a note,
    and sees it closed, without a reload, its acceptance in the history."""
    item_id = _rectified_finding(keys, "执法全过程记录未落实", "已配备执法记录仪并建立归档台账")
    dialog = await _open_awaiting(page, keys["supervisor"], item_id)
    assert "已配备执法记录仪并建立归档台账" in await dialog.inner_text()
    assert "报送整改" in await dialog.locator("ol.history li[data-change=rectified]").inner_text()
    assert await dialog.locator("form.act").count() == 2  # accept, or send it back

    accept = dialog.locator("form.act").first
    await accept.locator("textarea").fill("经核查整改到位，予以销号")
    await accept.locator("button").click()
    await dialog.locator("article[data-status=closed]").wait_for(timeout=15_000)
    assert await dialog.locator("dd.status").inner_text() == ItemStatus.CLOSED.label_zh
    row = await dialog.locator("ol.history li").last.inner_text()
    assert "验收办结" in row
    assert "经核查整改到位，予以销号" in row
    assert await dialog.locator("form.act").count() == 1  # a closed item can only be reopened
    await page.wait_for_selector(f"#rectifying li[data-item-id='{item_id}']", state="detached")
    with client_for(SUPERVISION, keys["supervisor"]) as http:
        item = http.get(f"/v1/items/{item_id}").json()
    assert item["status"] == "closed"
    assert item["resolution"] == "accepted"


async def test_an_action_another_supervisor_took_first_is_refused_with_the_reason(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    """Two supervisors have the same rectification open; the other accepts it first. This one's
    acceptance is accepted by the api (202) but refused by the domain: the dialog says so, from
    the event's receipt, and the item stays as the other left it."""
    item_id = _rectified_finding(keys, "罚没款收缴台账不全", "已补建台账")
    dialog = await _open_awaiting(page, keys["supervisor"], item_id)

    now = datetime.now(CST).isoformat()
    first = event(
        "supervision.item.accepted", "gov-office", item_id, {"item_id": item_id, "accepted_at": now}
    )
    with client_for(SUPERVISION, keys["supervisor"]) as http:
        assert http.post("/v1/events", **structured(first)).status_code == 202
        wait_until(
            lambda: http.get(f"/v1/items/{item_id}").json()["status"] == "closed",
            timeout=30,
            what="closed by the other supervisor",
        )
    await dialog.locator("form.act").first.locator("button").click()
    outcome = dialog.locator(".outcome")
    await outcome.filter(has_text="未能办理").wait_for(timeout=15_000)
    said = await outcome.inner_text()
    assert f"该事项现为「{ItemStatus.CLOSED.label_zh}」" in said  # shown as it now stands
    assert await dialog.locator("dd.status").inner_text() == ItemStatus.CLOSED.label_zh
    assert await dialog.locator("form.act").count() == 1  # reopening is what is left
