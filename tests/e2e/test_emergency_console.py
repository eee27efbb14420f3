"""The staff console in headless Chromium: a red alert POSTed over HTTP shows up live, red, and
its acknowledge button records an acknowledgement the alert's JSON then lists."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.e2e.test_emergency_alerts import EMERGENCY, issued
from tests.support.processes import ServiceProcesses, structured


async def _open_console(page: Page, key: str, staff_id: str) -> None:
    await page.goto(f"{EMERGENCY.url}/console")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await page.fill("#key", key)
    await page.fill("#staff", staff_id)
    await page.click("button[type=submit]")
    # Following the stream from now on: what is posted next is pushed to it.
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=20_000)


async def _wait_acknowledged(http: httpx.AsyncClient, alert_id: str) -> list[dict[str, str]]:
    async with asyncio.timeout(30):
        while True:
            response = await http.get(f"/v1/alerts/{alert_id}")
            if response.status_code == 200 and response.json()["acknowledgements"]:
                acks: list[dict[str, str]] = response.json()["acknowledgements"]
                return acks
            await asyncio.sleep(0.25)


async def test_a_red_alert_appears_live_and_is_acknowledged_from_the_console(
    services_up: ServiceProcesses, keys: dict[str, str], page: Page
) -> None:
    alert_id = f"A-{uuid.uuid4().hex[:10]}"
    await _open_console(page, keys["staff"], "staff-042")
    department = {"authorization": f"Bearer {keys['emergency']}"}
    async with httpx.AsyncClient(base_url=EMERGENCY.url, timeout=30, headers=department) as http:
        posted = await http.post("/v1/events", **structured(issued(alert_id, "red")))
        assert posted.status_code == 202, posted.text
        card = page.locator(f'.alert[data-alert-id="{alert_id}"]')
        # The target is 1 s (see bench/); the deadline here is generous.
        await expect(card).to_be_visible(timeout=10_000)
        assert await card.get_attribute("data-level") == "red"
        assert await card.evaluate("el => el.closest('.level').dataset.level") == "red"
        await expect(page).to_have_title("【红色预警】应急值守台 · 碑林区突发事件应对")
        await card.locator("button.ack").click()
        await expect(card.locator("button.ack")).to_have_text("已确认")
        staff = {"authorization": f"Bearer {keys['staff']}"}
        http.headers.update(staff)
        acks = await _wait_acknowledged(http, alert_id)
    assert [a["staff_id"] for a in acks] == ["staff-042"]
    assert acks[0]["unit"] == "emergency-management"


async def test_the_console_works_on_a_phone_and_asks_again_for_a_bad_key(
    services_up: ServiceProcesses, keys: dict[str, str], phone_page: Page
) -> None:
    await phone_page.goto(f"{EMERGENCY.url}/console")
    await phone_page.fill("#key", "not-a-key")
    await phone_page.fill("#staff", "staff-1")
    await phone_page.click("button[type=submit]")
    await expect(phone_page.locator("#login-error")).to_contain_text("密钥无效")
    await _open_console(phone_page, keys["staff"], "staff-1")
    width = await phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    button = phone_page.locator("#levels .level").first
    await expect(button).to_be_visible()
    # The key form is gone once the key is accepted; 更换密钥 brings it back, the key forgotten.
    await expect(phone_page.locator("#login")).to_be_hidden()
    await phone_page.click("#change-key")
    await expect(phone_page.locator("#key")).to_be_visible()
    await expect(phone_page.locator("#levels")).to_be_hidden()
    assert await phone_page.evaluate("sessionStorage.getItem('fazhi.console.key')") is None
    await _open_console(phone_page, keys["staff"], "staff-1")
    await expect(phone_page.locator("#login")).to_be_hidden()
