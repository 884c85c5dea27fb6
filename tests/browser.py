"""The browser of the owner's page tests: ``bench.browser``'s Chromium, skipped where it is
not installed, and a failure in CI, which installs it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bench import browser

ARTEFACTS = Path(os.environ.get("SPRINGBOARD_TEST_ARTEFACTS", "test-artefacts"))


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not browser.installed():
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium is not installed at {browser.CHROMIUM} (apt-get install chromium)"
            )
        pytest.skip(f"no Chromium at {browser.CHROMIUM} (apt-get install chromium)")
    async with browser.chromium() as running:
        yield running
