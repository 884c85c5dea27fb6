"""Secrets that travel on Kafka sealed, never in plain text: an owner's webhook secret is
sealed (Fernet: AES-128-CBC with HMAC-SHA256) by whoever sends the preferences and opened
by the notifier only, which signs deliveries with it.

The key is ``SPRINGBOARD_SECRETS_KEY`` (a Fernet key), or, on the embedded default, a file
``secrets.key`` in the data directory, made on first use and readable by its owner only:
``springboard up`` and every command run beside it share it.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shared.key_files import KeyUnavailable, key_in_data_dir
from shared.settings import SpringboardSettings

PREFIX = "sealed:v1:"


class SealError(ValueError):
    """A sealed value that this key cannot open (another key, or not a sealed value)."""


def _key(settings: SpringboardSettings) -> bytes:
    if settings.secrets_key is not None:
        return settings.secrets_key.get_secret_value().encode()
    try:
        return key_in_data_dir(
            Path(settings.data_dir) / "secrets.key", Fernet.generate_key, "SPRINGBOARD_SECRETS_KEY"
        )
    except KeyUnavailable as error:
        raise SealError(f"no secrets key: {error}") from None


def seal(settings: SpringboardSettings, secret: str) -> str:
    return PREFIX + Fernet(_key(settings)).encrypt(secret.encode()).decode()


def open_sealed(settings: SpringboardSettings, sealed: str) -> str:
    if not sealed.startswith(PREFIX):
        raise SealError("not a sealed value")
    try:
        return Fernet(_key(settings)).decrypt(sealed.removeprefix(PREFIX).encode()).decode()
    except (InvalidToken, ValueError):
        raise SealError("sealed with another key") from None
