"""An owner's webhook can neither reach into Springboard's own network (SSRF) nor put its
secret on Kafka in plain text."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from services import owner_commands
from services.notifier.delivery import webhook
from shared.keys import SealError, open_sealed, seal
from shared.messages.inputs import PreferencesSet
from shared.settings import SpringboardSettings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://93.184.216.34/hook",
    ],
)
async def test_non_public_destinations_are_refused(url) -> None:
    assert await webhook.refused_destination(url)


async def test_a_public_address_is_allowed() -> None:
    assert await webhook.refused_destination("https://93.184.216.34/hook") is None


async def test_a_refused_destination_is_never_called_and_not_retried() -> None:
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200))
    async with httpx.AsyncClient(transport=transport) as client:
        outcome = await webhook.post(client, "http://127.0.0.1:9/hook", None, {}, "k1")
        assert not outcome.delivered
        assert not outcome.retry
        assert "non-public" in outcome.error
        assert calls == []
        allowed = await webhook.post(
            client, "http://127.0.0.1:9/hook", None, {}, "k2", allow_private=True
        )
        assert allowed.delivered
        assert len(calls) == 1


def test_secrets_are_sealed_for_the_notifier_and_open_only_with_its_key(tmp_path) -> None:
    settings = SpringboardSettings(data_dir=tmp_path)
    sealed = seal(settings, "whsec_0123456789abcdef")
    assert "whsec_0123456789abcdef" not in sealed
    assert open_sealed(settings, sealed) == "whsec_0123456789abcdef"
    assert oct((tmp_path / "secrets.key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(SealError):
        open_sealed(SpringboardSettings(data_dir=tmp_path / "other"), sealed)


def test_a_plain_secret_is_refused_on_the_preferences_topic() -> None:
    with pytest.raises(ValidationError, match="webhook_secret"):
        PreferencesSet(webhook_url="https://h.example", webhook_secret="whsec_0123456789abcdef")


def test_the_preferences_command_sends_the_secret_sealed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPRINGBOARD_DATA_DIR", str(tmp_path))
    _, data, _ = owner_commands.preferences(
        "o1",
        email=None,
        webhook_url="https://hooks.example/sb",
        webhook_secret="whsec_0123456789abcdef",
        cadence="daily",
        digest_hour=8,
        quiet_hours=None,
        timezone="Europe/Stockholm",
        budget=None,
    )
    assert isinstance(data, PreferencesSet)
    assert data.webhook_secret
    assert "whsec_" not in data.model_dump_json()
    assert open_sealed(SpringboardSettings(data_dir=tmp_path), data.webhook_secret) == (
        "whsec_0123456789abcdef"
    )


def test_no_place_for_a_key_is_one_clear_error(tmp_path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(SealError, match="SPRINGBOARD_SECRETS_KEY"):
        seal(SpringboardSettings(data_dir=blocked / "data"), "whsec_0123456789abcdef")
