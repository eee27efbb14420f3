"""A real browser for the tests of pages: Debian's chromium driven by Playwright.

Playwright is pointed at the machine's `chromium` (`executable_path`); `playwright install`
is never run (it downloads its own build). Without chromium the tests that use these fixtures
fail, saying how to install it; they never skip. Chromium draws text with the fonts of
`.local/fonts/fonts.conf` (`FONTCONFIG_FILE`), which `make install` writes with a CJK font, so
Chinese is readable in screenshots (`scripts/screenshots.py` launches it the same way).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    async_playwright,
)

CHROMIUM = os.environ.get("FAZHI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = os.path.exists(CHROMIUM)

ROOT = Path(__file__).resolve().parents[2]
FONTS_CONF = next(
    (
        conf
        for local in (os.environ.get("FAZHI_LOCAL"), ROOT / ".local")
        if local and (conf := Path(local) / "fonts" / "fonts.conf").exists()
    ),
    None,
)
"""The fontconfig file `scripts/stack.sh install` writes (the machine's fonts and a CJK font)."""

PHONE: ViewportSize = {"width": 390, "height": 844}
"""A phone-sized viewport, for pages that must work on one."""


async def launch(playwright: Playwright) -> Browser:
    """Debian's chromium, headless, with the CJK font of `.local/fonts` where there is one."""
    env: dict[str, str | float | bool] | None = (
        {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)} if FONTS_CONF else None
    )
    return await playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        # --no-sandbox: the tests may run as root, where chromium's sandbox refuses to start.
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        env=env,
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(
            f"chromium is not at {CHROMIUM}: `make install` installs Debian's chromium "
            "(or set FAZHI_CHROMIUM to its path)"
        )
    async with async_playwright() as playwright:
        launched = await launch(playwright)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile (no cookies, no storage) per test, in Chinese, on a desktop screen."""
    ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    tab = await context.new_page()
    tab.set_default_timeout(10_000)
    return tab


@pytest.fixture
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    """A page on a phone-sized, touch screen."""
    ctx = await browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport=PHONE, is_mobile=True, has_touch=True
    )
    try:
        tab = await ctx.new_page()
        tab.set_default_timeout(10_000)
        yield tab
    finally:
        await ctx.close()
