"""`make screenshots`: the portal, the staff console and the supervision dashboard as Chromium
shows them after `make demo`, into docs/screenshots/*.png (the README's tour shows them).

Debian's chromium, driven by Playwright (`executable_path`; `playwright install` is never run),
with the CJK font `make install` unpacks under .local/fonts: without it Chinese is empty boxes,
so the script refuses to run. The pages are read with the demo keys, as the tour says.

    python scripts/screenshots.py                 # the `make run` stack
    python scripts/screenshots.py --target test   # the tests' ports (FAZHI_DEMO_TARGET)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from playwright.async_api import Page, ViewportSize, async_playwright
from playwright.async_api import TimeoutError as PageTimeout

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM, FONTS_CONF, HAVE_CHROMIUM, launch  # noqa: E402

from fazhi import topology  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}


def _ports(target: str) -> dict[str, int]:
    return {s.name: s.test_api_port if target == "test" else s.api_port for s in topology.SERVICES}


def _answering(ports: dict[str, int]) -> None:
    """Exit saying what to start when a page's api does not answer."""
    for name in ("open-government", "emergency", "supervision"):
        url = f"http://127.0.0.1:{ports[name]}/healthz"
        try:
            httpx.get(url, timeout=3).raise_for_status()
        except httpx.HTTPError as exc:
            sys.exit(
                f"{name}'s api does not answer at {url} ({exc}): start the stack with "
                "`make run`, then `make demo`"
            )


def _cjk_font() -> str:
    """The CJK font Chromium will use, or exit saying how to get one."""
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)} if FONTS_CONF else None
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        sys.exit("fc-list not found: fontconfig (Debian's fontconfig) comes with chromium")
    found = subprocess.run(  # noqa: S603 (fc-list found on PATH, fixed arguments)
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, env=env, check=False
    ).stdout.strip()
    if not found:
        sys.exit("no CJK font: `make install` (scripts/stack.sh font) unpacks one in .local/fonts")
    return found.splitlines()[0]


Shots = dict[str, bytes]
"""The pictures taken, by file name: written only once every page showed what it should."""


async def _portal(page: Page, url: str, shots: Shots) -> None:
    await page.goto(f"{url}/")
    await page.wait_for_selector("a[href*='/documents/']")
    shots["portal.png"] = await page.screenshot()
    await page.goto(f"{url}/search?q=行政规范性文件")
    await page.wait_for_selector("a[href*='/documents/']")
    shots["portal-search.png"] = await page.screenshot()


async def _console(page: Page, url: str, key: str, shots: Shots) -> None:
    await page.goto(f"{url}/console")
    await page.fill("#key", key)
    await page.fill("#staff", "staff-007")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".alert[data-level=red]")
    await page.wait_for_selector("#live[data-state=live]")
    await page.wait_for_timeout(1500)  # the incident board's lists
    shots["console.png"] = await page.screenshot()


async def _dashboard(page: Page, url: str, key: str, shots: Shots) -> None:
    await page.goto(f"{url}/dashboard")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#newest li")
    await page.wait_for_selector("body[data-live='1']")
    shots["dashboard.png"] = await page.screenshot()
    # A rectification to accept, in its dialog; once the tour's has been accepted, an open item.
    await page.click("#rectifying li[data-item-id], #newest li[data-item-id]")
    await page.wait_for_selector("dialog#item[open] article")
    shots["dashboard-item.png"] = await page.screenshot()


async def shoot(target: str, keys: dict[str, Any]) -> list[Path]:
    """The pages as the tour shows them, into `OUT`; none is written unless all were taken (a
    stack without the demo's data leaves the pictures there as they were)."""
    ports = _ports(target)
    base = "http://127.0.0.1:{}"
    shots: Shots = {}
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(
                locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT
            )
            page = await context.new_page()
            page.set_default_timeout(20_000)
            try:
                await _portal(page, base.format(ports["open-government"]), shots)
                staff, supervisor = (
                    keys["roles"]["staff"]["key"],
                    keys["roles"]["supervisor"]["key"],
                )
                await _console(page, base.format(ports["emergency"]), staff, shots)
                await _dashboard(page, base.format(ports["supervision"]), supervisor, shots)
            except PageTimeout as exc:
                # What each page waits for is what the demo posts (documents, the red alert,
                # items): most likely the demo has not run on this stack.
                raise SystemExit(
                    f"{unquote(page.url)} did not show what the demo gives it within 20 s: run "
                    f"`make demo` first; no picture was changed ({str(exc).splitlines()[0]})"
                ) from None
        finally:
            await browser.close()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, picture in shots.items():
        (OUT / name).write_bytes(picture)
    return sorted(OUT / name for name in shots)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target", choices=["run", "test"], default=os.environ.get("FAZHI_DEMO_TARGET", "run")
    )
    parser.add_argument("--keys", type=Path, default=ROOT / ".local" / "demo-keys.json")
    args = parser.parse_args(argv)
    if not args.keys.exists():
        sys.exit(f"no demo keys at {args.keys}: `make run` writes them")
    keys = json.loads(args.keys.read_text())
    _answering(_ports(args.target))
    if not HAVE_CHROMIUM:
        sys.exit(f"chromium is not at {CHROMIUM}: `make install` installs it")
    font = _cjk_font()
    for path in asyncio.run(shoot(args.target, keys)):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} kB  ({font})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
