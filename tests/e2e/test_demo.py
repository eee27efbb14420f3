"""`make demo` against the test stack: the week is posted by the units' own keys (a file as `fazhi
keys demo` writes it), every event is applied, a second run posts nothing, and the three pages show
what the week caused in Chromium: the portal lists and finds its documents, the console shows
the red alert in force and takes an acknowledgement with the staff key, the dashboard shows the
supervision items it opened."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from pymongo import AsyncMongoClient

from fazhi.cli import OPERATOR_UNIT, ROLE_KEYS
from fazhi.roles import Role
from fazhi.web.auth import KeyStore
from tests.support.processes import (
    AUTH_DB,
    CST,
    MONGO,
    ROOT,
    SERVICES,
    ServiceProcesses,
    wait_until,
)

# The week completes overdue plan milestones and opens items: the supervision tests that count
# the plan's overdue measures must have run before it.
pytestmark = [pytest.mark.e2e, pytest.mark.late]

PORTAL = SERVICES["open-government"]
EMERGENCY = SERVICES["emergency"]
SUPERVISION = SERVICES["supervision"]
SMOG = "BL-ALERT-SMOG-01"
"""The red heavy-pollution alert the week ends with, still in force."""


def _demo(keys: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/demo.py", "--target", "test", "--keys", str(keys)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def _create_keys() -> dict[str, Any]:
    """A demo keys file as `make run` writes it (`fazhi keys demo`, tested in test_services),
    holding only the keys the week uses: a department key per posting unit, the staff and the
    supervisor key (made in one go, not one CLI run per key)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        week = importlib.import_module("demo").week
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    steps = week(datetime.now(CST), lambda *_: "")
    units = {s.unit for s in steps if s.role == "department"}
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    store = KeyStore(client[AUTH_DB], cache_seconds=0)
    try:
        keys = {
            "operator": (await store.create(OPERATOR_UNIT, {Role.OPERATOR}))[0],
            "units": {u: (await store.create(u, {Role.DEPARTMENT}))[0] for u in sorted(units)},
            "roles": {
                str(role): {"unit": unit, "key": (await store.create(unit, {role}))[0]}
                for role, unit in ROLE_KEYS.items()
            },
        }
    finally:
        await client.close()
    return keys


@pytest.fixture(scope="module")
def demo(services_up: ServiceProcesses, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's keys and the week posted twice."""
    path = tmp_path_factory.mktemp("demo") / "demo-keys.json"
    keys = asyncio.run(_create_keys())
    path.write_text(json.dumps(keys, ensure_ascii=False))
    first, second = _demo(path), _demo(path)
    return {"keys": keys, "first": first, "second": second}


def test_the_week_is_applied_once(demo: dict[str, Any]) -> None:
    first, second = demo["first"], demo["second"]
    assert first.returncode == 0, first.stdout + first.stderr
    posted = re.search(r"demo week: (\d+) events, (\d+) applied", first.stdout)
    assert posted is not None, first.stdout
    assert int(posted.group(2)) == int(posted.group(1)), first.stdout
    assert second.returncode == 0, second.stdout + second.stderr
    again = re.search(r"demo week: (\d+) events, (\d+) skipped \(posted before\)", second.stdout)
    assert again is not None, second.stdout
    assert again.group(2) == posted.group(1), second.stdout


async def test_the_portal_lists_and_finds_the_weeks_documents(
    demo: dict[str, Any], page: Page
) -> None:
    await page.goto(f"{PORTAL.url}/kinds/normative")
    listed = page.locator("main")
    await expect(listed).to_contain_text("碑林区行政规范性文件管理办法")
    await expect(listed).to_contain_text("碑林区城市管理领域轻微违法行为不予处罚清单")
    await page.goto(f"{PORTAL.url}/search?q=不予处罚清单")
    await expect(page.locator("a[href$='/documents/BL-GF-2026-08']").first).to_be_visible()
    await page.goto(f"{PORTAL.url}/documents/BL-GF-2026-07")
    await expect(page.locator("main")).to_contain_text("增加第四条")  # the amendment's note
    # The repealed document says so; no applicant's name reaches the portal.
    await page.goto(f"{PORTAL.url}/documents/BL-GF-2019-03")
    await expect(page.locator("main")).to_contain_text("废止")
    await page.goto(f"{PORTAL.url}/")
    assert "陈建国" not in await page.content()


async def test_the_console_shows_the_red_alert_and_takes_an_acknowledgement(
    demo: dict[str, Any], page: Page
) -> None:
    staff = demo["keys"]["roles"]["staff"]["key"]
    await page.goto(f"{EMERGENCY.url}/console")
    await page.fill("#key", staff)
    await page.fill("#staff", "staff-042")
    await page.click("button[type=submit]")
    card = page.locator(f'.alert[data-alert-id="{SMOG}"]')
    await expect(card).to_be_visible()
    assert await card.get_attribute("data-level") == "red"
    # The rainstorm's chain was cancelled: none of its messages is in force.
    await expect(page.locator('.alert[data-alert-id^="BL-ALERT-RAIN"]')).to_have_count(0)
    await expect(page.locator("#board")).to_contain_text("东关南街一居民楼燃气管道泄漏")
    await card.locator("button.ack").click()
    await expect(card.locator("button.ack")).to_have_text("已确认")

    def acknowledged() -> list[dict[str, Any]] | None:
        response = httpx.get(
            f"{EMERGENCY.url}/v1/alerts/{SMOG}",
            headers={"authorization": f"Bearer {staff}"},
            timeout=10,
        )
        acks: list[dict[str, Any]] = response.json().get("acknowledgements", [])
        return acks if any(a["staff_id"] == "staff-042" for a in acks) else None

    wait_until(acknowledged, timeout=30, what=f"{SMOG} acknowledged by staff-042")


async def test_the_dashboard_shows_the_items_the_week_opened(
    demo: dict[str, Any], page: Page
) -> None:
    await page.goto(f"{SUPERVISION.url}/dashboard")
    await page.fill("#key", demo["keys"]["roles"]["supervisor"]["key"])
    await page.click("button[type=submit]")
    newest = page.locator("#newest")
    await expect(newest.locator("li[data-item-id='finding-F-W49-01']")).to_contain_text(
        "占道经营执法案卷记录不全"
    )
    # The red alert opened an item of its own colour; the accepted rectification closed one.
    red = page.locator("#levels li[data-level=red] strong")
    await expect(red).not_to_have_text("0")
    await expect(newest.locator("li[data-item-id='finding-F-W49-03']")).to_have_count(0)
    # The rectification left for the supervisor waits among the items to accept, with its
    # report and the two ways to answer it.
    awaiting = page.locator("#rectifying li[data-item-id='finding-F-W49-02']")
    await expect(awaiting).to_contain_text("老旧小区改造项目招标文件未经合法性审核")
    await awaiting.click()
    dialog = page.locator("dialog#item[open]")
    await expect(dialog.locator("ol.history li[data-change=rectified]")).to_contain_text(
        "建立重大合同审核台账"
    )
    await expect(dialog.locator("form.act")).to_have_count(2)
