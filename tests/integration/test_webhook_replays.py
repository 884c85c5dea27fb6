"""Webhook replays are refused after a restart too: the accepted requests are kept in
ingest's database (real PostgreSQL) for the replay window."""

from __future__ import annotations

import time

import pytest

from services.ingest.main import StoredReplays
from services.ingest.models import TABLES
from services.ingest.settings import IngestSettings
from services.ingest.store import IngestWork
from services.ingest.webhooks import WebhookEndpoint
from shared.service import ServiceRuntime
from shared.settings import DatabaseSettings
from tests.unit.ingest.test_webhooks import SECRET, FakePublisher, body, post

pytestmark = pytest.mark.integration


def endpoint(postgres: DatabaseSettings, tmp_path) -> WebhookEndpoint:
    """A freshly started ingest's endpoint (a new runtime: nothing kept in memory)."""
    settings = IngestSettings(data_dir=tmp_path, database=postgres)
    runtime = ServiceRuntime("ingest", settings, TABLES, IngestWork)
    runtime.database.open()
    return WebhookEndpoint(
        FakePublisher(),
        secret=SECRET,
        max_bytes=10_000,
        tolerance_seconds=300,
        replays=StoredReplays(runtime, 300),
    )


async def test_a_replay_after_a_restart_is_refused(postgres: DatabaseSettings, tmp_path) -> None:
    now, payload = int(time.time()), body()
    assert (await post(endpoint(postgres, tmp_path), payload, timestamp=now)).status_code == 202
    restarted = endpoint(postgres, tmp_path)
    again = await post(restarted, payload, timestamp=now)
    assert again.status_code == 401
    assert "replay" in again.json()["error"]
    assert restarted.publisher.sent == []


def test_a_short_webhook_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        IngestSettings(webhook_secret="short-secret")


def test_an_empty_secret_as_compose_passes_it_means_webhooks_off(monkeypatch) -> None:
    monkeypatch.setenv("SPRINGBOARD_WEBHOOK_SECRET", "")
    monkeypatch.setenv("SPRINGBOARD_SECRETS_KEY", "")
    settings = IngestSettings()
    assert settings.webhook_secret is None
    assert settings.secrets_key is None
