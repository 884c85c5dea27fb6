"""The owner's page in a real browser (Debian's Chromium, driven by Playwright) on the
three services, the real Tansu broker and real PostgreSQL, fed the sample network for two
owners: sign in with a link, answer suggestions, change a goal, import a vCard, and find
nothing of the other owner."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from playwright.async_api import Browser, Page, expect

from services.embedded import EmbeddedSystem
from services.notifier.settings import NotifierSettings
from services.page_link import sign_in_link
from shared import topics
from shared.client import SuggestionReader, publish
from shared.messages import envelope_adapter
from shared.sample_network import generate
from shared.settings import DatabaseSettings
from tests.browser import ARTEFACTS, chromium
from tests.conftest import embedded_system, unique
from tests.real_files import real_files

pytestmark = pytest.mark.integration

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
async def system(kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path_factory) -> Any:
    async with embedded_system(kafka_bootstrap, postgres, tmp_path_factory, "page") as running:
        yield running


@pytest.fixture(scope="module")
async def owners(system: EmbeddedSystem) -> dict[str, Any]:
    """Two owners' sample networks, fed until each has this week's suggestions."""
    first, second = unique("anna-"), unique("bert-")
    networks = {
        first: generate(owner_id=first, seed=11),
        second: generate(owner_id=second, seed=12),
    }
    async with SuggestionReader(system.kafka) as reader:
        await publish(system.kafka, [m for n in networks.values() for m in n.messages])
        found = await reader.collect(owner_id=None, want=10, timeout=180, quiet=15)
    by_owner = {o: [e for e in found if e.owner_id == o] for o in networks}
    assert all(by_owner.values()), {o: len(s) for o, s in by_owner.items()}
    return {"a": first, "b": second, "suggestions": by_owner}


@pytest.fixture(scope="module")
async def browser() -> Any:
    async with chromium() as running:
        yield running


def link(system: EmbeddedSystem, owner: str) -> str:
    settings = NotifierSettings(data_dir=system.data_dir, public_url=system.service("notifier").url)
    return sign_in_link(settings, owner)


async def signed_in(browser: Browser, system: EmbeddedSystem, owner: str, **context: Any) -> Page:
    page = await (await browser.new_context(**context)).new_page()
    answer = await page.goto(link(system, owner))
    assert answer is not None
    assert answer.ok
    await page.get_by_role("button", name="Open my page").click()
    await page.wait_for_url("**/me/")
    return page


async def topic_messages(system: EmbeddedSystem, topic: str, owner: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        system.kafka.topic_prefix + topic,
        bootstrap_servers=system.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        records = [r for rs in batches.values() for r in rs]
    finally:
        await consumer.stop()
    envelopes = [envelope_adapter(topic).validate_json(r.value) for r in records]
    return [e for e in envelopes if e.owner_id == owner]


async def eventually(check: Any, timeout: float = 90.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(1.0)


async def test_a_link_signs_in_and_shows_this_weeks_suggestions(system, owners, browser) -> None:
    page = await signed_in(browser, system, owners["a"])
    cards = page.locator("#suggestions .card")
    headlines = {s.data.headline for s in owners["suggestions"][owners["a"]]}
    shown = set(await cards.locator("h3").all_inner_texts())
    assert shown == headlines
    await expect(page.locator("h1")).to_contain_text("Maria Lindqvist")
    cookies = await page.context.cookies()
    [session] = [c for c in cookies if c["name"] == "springboard_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    # The link was used: opened again (say, from a forwarded mail), it signs no one in.
    other = await browser.new_page()
    refused = await other.goto(link(system, owners["a"]).replace("t=", "t=x"))
    assert refused is not None
    assert refused.status == 403


async def test_accept_and_dismiss_reach_the_feedback_topic_and_the_next_list(
    system, owners, browser
) -> None:
    owner = owners["a"]
    page = await signed_in(browser, system, owner)
    await page.evaluate("window.notReloaded = true")
    first, second = (await page.locator("#suggestions .card").all())[:2]
    accepted = await first.get_attribute("data-suggestion")
    dismissed = await second.get_attribute("data-suggestion")
    await first.get_by_role("button", name="Accept").click()
    await expect(page.locator(f'.answered [data-suggestion="{accepted}"]')).to_have_attribute(
        "data-answer", "accepted"
    )
    await (
        page.locator(f'.card[data-suggestion="{dismissed}"]')
        .get_by_role("button", name="Dismiss")
        .click()
    )
    await expect(page.locator(f'.answered [data-suggestion="{dismissed}"]')).to_have_attribute(
        "data-answer", "dismissed"
    )
    assert await page.evaluate("window.notReloaded === true")  # swapped in place
    feedback = await eventually(lambda: _answers(system, owner, {accepted, dismissed}), timeout=30)
    assert feedback == {accepted: "accepted", dismissed: "dismissed"}
    # The next ranked list is scored with the answers: the dismissed subject is left out.
    subject = next(
        s.data.subject_id for s in owners["suggestions"][owner] if s.data.suggestion_id == dismissed
    )

    async def rescored() -> bool:
        lists = await topic_messages(system, topics.RECOMMENDATIONS, owner)
        after = [e for e in lists if e.time > max(f.time for f in await _feedback(system, owner))]
        return bool(after) and all(i.subject_id != subject for i in after[-1].data.items)

    assert await eventually(rescored)
    # And the page, loaded afresh, still shows both answers.
    await page.reload()
    assert await page.locator(f'.card[data-suggestion="{dismissed}"]').count() == 0


async def _feedback(system: EmbeddedSystem, owner: str) -> list[Any]:
    return await topic_messages(system, topics.FEEDBACK, owner)


async def _answers(system: EmbeddedSystem, owner: str, ids: set[str]) -> dict[str, str]:
    return {
        e.data.suggestion_id: e.data.action.value
        for e in await _feedback(system, owner)
        if e.data.suggestion_id in ids
    }


async def test_a_new_goal_shows_up_as_a_gap_on_the_map(system, owners, browser) -> None:
    page = await signed_in(browser, system, owners["a"])
    await expect(page.locator("#map")).to_contain_text("people")
    assert "Reykjavik" not in await page.locator("#map").inner_text()
    cities = page.locator("#f-target_cities")
    await cities.fill(await cities.input_value() + ", Reykjavik")
    await page.get_by_role("button", name="Save goals").click()
    await expect(page.locator("#goals .saved")).to_be_visible()
    # The recommender scores the network again and the map comes back with the new gap.
    await expect(page.locator("#map .gaps")).to_contain_text(
        re.compile(r"0 CFOs in Reykjavik"), timeout=90_000
    )
    # A field that is wrong is named next to it, and nothing is sent.
    await page.locator("#f-emails").fill("not-an-address")
    await page.get_by_role("button", name="Save goals").click()
    await expect(page.locator("#e-emails")).to_be_visible()


async def test_an_uploaded_vcard_is_counted(system, owners, browser) -> None:
    vcard = next(p for p in real_files("ez-vcard", ".vcf") if p.name == "John_Doe_GMAIL.vcf")
    page = await signed_in(browser, system, owners["a"])
    await page.locator("#f-file").set_input_files(vcard)
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#import .summary")).to_contain_text("1 contact")
    contacts = await eventually(lambda: _contacts_named(system, owners["a"], "John"), timeout=30)
    assert contacts


async def _contacts_named(system: EmbeddedSystem, owner: str, name: str) -> list[Any]:
    return [
        e
        for e in await topic_messages(system, topics.CONTACTS, owner)
        if e.source == "page:vcard" and name in (e.data.full_name or "")
    ]


async def test_a_session_reaches_nothing_of_another_owner(system, owners, browser) -> None:
    a, b = owners["a"], owners["b"]
    page = await signed_in(browser, system, a)
    base = system.service("notifier").url
    csrf = await page.locator('#suggestions input[name="csrf"]').first.input_value()
    theirs = owners["suggestions"][b]
    for suggestion in theirs:
        for action in ("accepted", "dismissed"):
            answer = await page.request.post(
                f"{base}/me/suggestions/{suggestion.data.suggestion_id}",
                form={"action": action, "csrf": csrf, "owner_id": b},
            )
            assert answer.status in (403, 404), answer.status
    names = {s.data.subject_name for s in theirs} - {
        s.data.subject_name for s in owners["suggestions"][a]
    }
    for path in ("/me/", "/me/map", "/me/suggestions"):
        for query in ("", f"?owner={b}", f"?owner_id={b}"):
            shown = await page.request.get(f"{base}{path}{query}")
            assert shown.status == 200
            text = await shown.text()
            assert not any(name in text for name in names), (path, query)
    assert not await _answers(system, b, {s.data.suggestion_id for s in theirs})


async def test_the_page_at_desktop_and_phone_widths(system, owners, browser) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await signed_in(browser, system, owners["b"], viewport=viewport)
        await expect(page.locator("#map svg").first).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}: {width}px wide, scrolls sideways"
        path = ARTEFACTS / f"owner-page-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


async def test_without_javascript_every_form_still_works(system, owners, browser) -> None:
    owner = owners["b"]
    page = await signed_in(browser, system, owner, java_script_enabled=False)
    card = page.locator("#suggestions .card").first
    snoozed = await card.get_attribute("data-suggestion")
    await card.get_by_role("button", name="Snooze").click()
    await page.wait_for_url("**/me/#suggestions")
    await expect(page.locator(f'.answered [data-suggestion="{snoozed}"]')).to_have_attribute(
        "data-answer", "snoozed"
    )
    await page.locator("#f-timezone").fill("Mars/Olympus")
    await page.get_by_role("button", name="Save preferences").click()
    await expect(page.locator("#e-timezone")).to_contain_text("time zone")
    assert await _answers(system, owner, {snoozed}) == {snoozed: "snoozed"}
