"""A notifier killed (SIGKILL) in the middle of delivering loses nothing when restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest

from services.recommender.rankers import PRIOR_VERSION
from shared import topics
from shared.broker import ensure_topics
from shared.client import SuggestionReader, publish
from shared.embedded_broker import free_port
from shared.keys import seal
from shared.messages import wrap
from shared.messages.inputs import PreferencesSet
from shared.messages.recommendations import RankedItem, RecommendationsMade, SuggestionKind
from shared.settings import DatabaseSettings, KafkaSettings, SpringboardSettings
from tests.conftest import unique
from tests.outage_helpers import preferences_stored
from tests.receivers import WebhookReceiver, serving

pytestmark = pytest.mark.integration


def start_notifier(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "notifier"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_every_suggestion_is_delivered_once_after_a_kill_and_restart(
    kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=unique("kill-"))
    await ensure_topics(kafka)
    port = free_port()
    env = {
        **os.environ,
        "SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
        "SPRINGBOARD_KAFKA__TOPIC_PREFIX": kafka.topic_prefix,
        "SPRINGBOARD_DATA_DIR": str(tmp_path),
        "SPRINGBOARD_HTTP_PORT": str(port),
        "SPRINGBOARD_LOG_LEVEL": "WARNING",
        "SPRINGBOARD_BACKOFF_BASE_SECONDS": "0.1",
        "SPRINGBOARD_ALLOW_PRIVATE_WEBHOOKS": "true",  # the receiver is on loopback
    }
    if postgres.url:
        env["SPRINGBOARD_DATABASE__URL"] = postgres.url
        env["SPRINGBOARD_DATABASE__SCHEMA_NAME"] = postgres.schema_name or ""
    owner = unique("restart-")
    receiver = WebhookReceiver(delay=1.5)
    items = [
        RankedItem(
            suggestion_id=f"{owner}-s{i}",
            kind=SuggestionKind.RECONNECT,
            subject_id=f"p{i}",
            subject_name=f"Person {i}",
            score=0.9 - i / 100,
            rank=i + 1,
            reasons=["Last met 120 days ago."],
        )
        for i in range(8)
    ]
    async with serving(receiver):
        process = start_notifier(env)
        try:
            async with httpx.AsyncClient(timeout=2) as client:

                async def ready() -> bool:
                    try:
                        return (
                            await client.get(f"http://127.0.0.1:{port}/ready")
                        ).status_code == 200
                    except httpx.HTTPError:
                        return False

                deadline = time.monotonic() + 60
                while not await ready():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
            await publish(
                kafka,
                [
                    (
                        topics.PREFERENCES,
                        wrap(
                            PreferencesSet(
                                webhook_url=receiver.url,
                                webhook_secret=seal(
                                    SpringboardSettings(data_dir=tmp_path), "whsec_restart_test_01"
                                ),
                                weekly_budget=8,
                            ),
                            owner_id=owner,
                            source="test",
                        ),
                    )
                ],
            )
            await preferences_stored(
                SpringboardSettings(data_dir=tmp_path, database=postgres), [owner]
            )
            await publish(
                kafka,
                [
                    (
                        topics.RECOMMENDATIONS,
                        wrap(
                            RecommendationsMade(
                                model_version=PRIOR_VERSION,
                                generated_at=datetime.now(UTC),
                                items=items,
                            ),
                            owner_id=owner,
                            source="test",
                        ),
                    )
                ],
            )
            await wait_for(lambda: receiver.requests, 60)
            process.send_signal(signal.SIGKILL)  # deliveries are in flight
            process.wait(10)
            assert len(receiver.processed) < len(items)
            process = start_notifier(env)
            await wait_for(lambda: len(receiver.processed) == len(items), 90)
        finally:
            process.kill()
            process.wait(10)
    assert {body["suggestion"]["suggestion_id"] for body in receiver.processed.values()} == {
        i.suggestion_id for i in items
    }
    assert len(receiver.processed) == len(items)  # one processing per idempotency key
    async with SuggestionReader(kafka) as reader:
        published = await reader.collect(owner_id=owner, want=100, timeout=5, quiet=2)
    assert {e.data.suggestion_id for e in published} == {i.suggestion_id for i in items}
