"""The owner's page: how fast its first view loads on the sample network.

``python -m bench.owner_page [--quick] [--json]``: the whole system on the embedded broker
(SQLite stores, as ``springboard up`` runs it), fed the sample network; then, in Debian's
Chromium driven by Playwright, a fresh browser context per view opens a new sign-in link,
presses its "Open my page" button and loads the page with its stylesheet and script.
Reported:
- first_view_ms_p50 / _p95: from the button's sign-in request to the page's load event
  (Navigation Timing: the redirect, HTML, CSS and JS, all served by the notifier);
- page_html_ms_p50 / _p95: the server's answer to ``GET /me/`` alone, over HTTP (httpx);
- page_bytes: the HTML of the first view.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench import report
from bench.browser import chromium
from services.embedded import EmbeddedSystem
from services.notifier.settings import NotifierSettings
from services.page_link import sign_in_link
from shared.client import SuggestionReader, publish
from shared.sample_network import generate

LOAD = """() => {
  const [entry] = performance.getEntriesByType("navigation");
  return {load: entry.loadEventEnd - entry.startTime, redirects: entry.redirectCount};
}"""


def percentiles(values: list[float]) -> tuple[float, float]:
    data = np.array(values)
    return round(float(np.percentile(data, 50)), 1), round(float(np.percentile(data, 95)), 1)


async def measure(quick: bool) -> dict[str, Any]:
    views = 5 if quick else 40
    with tempfile.TemporaryDirectory(prefix="springboard-page-") as scratch:
        async with EmbeddedSystem(data_dir=Path(scratch)) as system:
            network = generate(seed=7)
            async with SuggestionReader(system.kafka) as reader:
                await publish(system.kafka, network.messages)
                found = await reader.collect(
                    owner_id=network.owner_id, want=5, timeout=120, quiet=5
                )
            notifier = system.service("notifier").url
            settings = NotifierSettings(data_dir=system.data_dir, public_url=notifier)
            loads, html_ms, size = [], [], 0
            async with chromium() as browser:
                for _ in range(views):
                    context = await browser.new_context()
                    page = await context.new_page()
                    await page.goto(sign_in_link(settings, network.owner_id))
                    await page.get_by_role("button", name="Open my page").click()
                    await page.wait_for_url("**/me/")
                    await page.wait_for_load_state("load")
                    timing = await page.evaluate(LOAD)
                    if not page.url.endswith("/me/") or timing["redirects"] != 1:
                        raise RuntimeError(f"the sign-in link did not open the page: {page.url}")
                    loads.append(timing["load"])
                    await context.close()
            async with httpx.AsyncClient(base_url=notifier) as client:
                for _ in range(views):
                    link = sign_in_link(settings, network.owner_id)
                    await client.post("/me/sign-in", data={"t": link.split("t=", 1)[1]})
                    started = time.perf_counter()
                    answer = await client.get("/me/")
                    html_ms.append((time.perf_counter() - started) * 1000)
                    size = len(answer.content)
                    client.cookies.clear()
    first_p50, first_p95 = percentiles(loads)
    html_p50, html_p95 = percentiles(html_ms)
    return {
        "views": views,
        "suggestions_shown": len(found),
        "first_view_ms_p50": first_p50,
        "first_view_ms_p95": first_p95,
        "page_html_ms_p50": html_p50,
        "page_html_ms_p95": html_p95,
        "page_bytes": size,
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
