"""Suggestions reach people: a flaky webhook, a dead one, an e-mail digest whose link works."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from services.embedded import EmbeddedSystem
from shared import topics
from shared.client import SuggestionReader, publish
from shared.embedded_broker import free_port
from shared.keys import seal
from shared.messages import wrap
from shared.messages.inputs import PreferencesSet
from shared.sample_network import generate
from shared.settings import DatabaseSettings, SpringboardSettings
from tests.conftest import unique
from tests.outage_helpers import preferences_stored
from tests.receivers import WebhookReceiver, serving, smtp_server

pytestmark = pytest.mark.integration
SECRET = "whsec_delivery_test_0001"


async def wait_for(predicate, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def read_topic(system: EmbeddedSystem, topic: str, timeout_ms: int = 8000) -> list[dict]:
    consumer = AIOKafkaConsumer(
        system.kafka.topic_prefix + topic,
        bootstrap_servers=system.kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=timeout_ms)
    finally:
        await consumer.stop()
    return [json.loads(r.value) for rs in batches.values() for r in rs]


@pytest.fixture(scope="module")
async def world(kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path_factory) -> Any:
    flaky, down = WebhookReceiver(failures=2), WebhookReceiver()
    port = free_port()
    with smtp_server() as (smtp_port, inbox):
        async with (
            serving(flaky),
            EmbeddedSystem(
                data_dir=tmp_path_factory.mktemp("delivery"),
                database=postgres,
                bootstrap_servers=kafka_bootstrap,
                topic_prefix=unique("dlv-"),
                service_overrides={
                    "notifier": {
                        "http_port": port,
                        "public_url": f"http://127.0.0.1:{port}",
                        "link_secret": "link-secret-for-tests",
                        "smtp_host": "127.0.0.1",
                        "smtp_port": smtp_port,
                        "smtp_starttls": False,
                        "delivery_max_attempts": 3,
                        "backoff_base_seconds": 0.05,
                        "backoff_max_seconds": 0.5,
                        "breaker_cooldown_seconds": 0.5,
                        "allow_private_webhooks": True,  # the receivers are on loopback
                    }
                },
            ) as system,
        ):
            sealed = seal(SpringboardSettings(data_dir=system.data_dir), SECRET)
            happy, unlucky = unique("happy-"), unique("unlucky-")
            await publish(
                system.kafka,
                [
                    (
                        topics.PREFERENCES,
                        wrap(
                            PreferencesSet(
                                webhook_url=flaky.url,
                                webhook_secret=sealed,
                                email="maria@example.com",
                                cadence="instant",
                            ),
                            owner_id=happy,
                            source="app",
                        ),
                    ),
                    (
                        topics.PREFERENCES,
                        wrap(
                            PreferencesSet(webhook_url=down.url, webhook_secret=sealed),
                            owner_id=unlucky,
                            source="app",
                        ),
                    ),
                ],
            )
            stored = SpringboardSettings(data_dir=system.data_dir, database=postgres)
            await preferences_stored(stored, [happy, unlucky])  # preferences first, as in life
            await publish(system.kafka, generate(owner_id=happy, seed=3).messages)
            await publish(system.kafka, generate(owner_id=unlucky, seed=4, scale=0.4).messages)
            async with SuggestionReader(system.kafka) as reader:
                found = await reader.collect(owner_id=None, want=10, timeout=180, quiet=20)
            yield {
                "system": system,
                "flaky": flaky,
                "inbox": inbox,
                "happy": happy,
                "unlucky": unlucky,
                "suggestions": found,
            }


async def test_a_webhook_that_fails_then_recovers_gets_every_suggestion_once(world) -> None:
    mine = {e.data.suggestion_id for e in world["suggestions"] if e.owner_id == world["happy"]}
    flaky = world["flaky"]
    await wait_for(lambda: len(flaky.processed) >= len(mine))
    assert {body["suggestion"]["suggestion_id"] for body in flaky.processed.values()} == mine
    assert len(flaky.requests) > len(mine)  # the first ones were retried
    for request in flaky.requests:
        headers = request["headers"]
        import hashlib
        import hmac

        expected = hmac.new(
            SECRET.encode(),
            headers["x-springboard-timestamp"].encode() + b"." + request["body"],
            hashlib.sha256,
        ).hexdigest()
        assert headers["x-springboard-signature"] == "v1=" + expected
        assert headers["idempotency-key"].startswith("webhook:")


async def test_a_webhook_that_stays_down_ends_in_the_dead_letter_topic(world) -> None:
    unlucky = world["unlucky"]
    expected = sum(1 for e in world["suggestions"] if e.owner_id == unlucky)
    assert expected > 0
    letters: list[dict] = []

    async def poll() -> None:
        nonlocal letters
        for _ in range(60):
            letters = [
                x["data"]
                for x in await read_topic(
                    world["system"], topics.dead_letter(topics.SUGGESTIONS), 2000
                )
                if x["owner_id"] == unlucky
            ]
            if len(letters) >= expected:
                return
            await asyncio.sleep(1)

    await poll()
    assert len(letters) == expected
    assert all("failed after 3 attempt(s)" in x["reason"] for x in letters)
    ids = {base64.b64decode(x["original_value_b64"]).decode() for x in letters}
    assert ids == {e.data.suggestion_id for e in world["suggestions"] if e.owner_id == unlucky}


async def test_the_digest_arrives_by_smtp_and_its_feedback_link_becomes_feedback(world) -> None:
    inbox, happy = world["inbox"], world["happy"]
    headlines = [e.data.headline for e in world["suggestions"] if e.owner_id == happy]

    def texts() -> str:
        return "".join(m.get_body(("plain",)).get_content() for m in inbox.messages)

    # Instant digests: one per batch of suggestions, so all of them across the messages.
    await wait_for(lambda: all(h in texts() for h in headlines))
    message = inbox.messages[0]
    assert message["To"] == "maria@example.com"
    html = message.get_body(("html",)).get_content()
    link = re.search(r'href="([^"]*a=dismissed[^"]*)"', html).group(1).replace("&amp;", "&")
    async with httpx.AsyncClient(timeout=10) as client:
        page = await client.get(link)  # opening it asks; a mail scanner answers nothing
        assert page.status_code == 200
        assert "method='post'" in page.text
        form = dict(re.findall(r"name='(\w)' value='([^']*)'", page.text))
        confirmed = await client.post(link.split("?", 1)[0], data=form)
        assert confirmed.status_code == 200
        replayed = await client.post(link.split("?", 1)[0], data=form)
        assert replayed.status_code == 409  # the link has answered
    feedback = [
        x for x in await read_topic(world["system"], topics.FEEDBACK) if x["owner_id"] == happy
    ]
    assert feedback
    assert feedback[0]["data"]["action"] == "dismissed"
    assert feedback[0]["data"]["suggestion_id"] in {
        e.data.suggestion_id for e in world["suggestions"]
    }
