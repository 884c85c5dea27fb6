"""Headless Chromium from the Debian package (``apt-get install chromium``), driven by
Playwright; its own browser downloads are not used. For the owner's page benchmark and
browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

CHROMIUM = os.environ.get("SPRINGBOARD_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",  # root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The network here is closed: no background calls home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def installed() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not installed():
        raise RuntimeError(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()
