"""Secrets that travel on Kafka sealed, never in plain text: an owner's webhook secret is
sealed (Fernet: AES-128-CBC with HMAC-SHA256) by whoever sends the preferences and opened
by the notifier only, which signs deliveries with it.

The key is ``SPRINGBOARD_SECRETS_KEY`` (a Fernet key), or, on the embedded default, a file
``secrets.key`` in the data directory, made on first use and readable by its owner only:
``springboard up`` and every command run beside it share it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shared.settings import SpringboardSettings

PREFIX = "sealed:v1:"


class SealError(ValueError):
    """A sealed value that this key cannot open (another key, or not a sealed value)."""


def _key(settings: SpringboardSettings) -> bytes:
    if settings.secrets_key is not None:
        return settings.secrets_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secrets.key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
        return path.read_bytes().strip()
    except OSError as error:  # a read-only data directory, as in a locked-down container
        raise SealError(
            f"no secrets key: set SPRINGBOARD_SECRETS_KEY ({path} cannot be made: {error.strerror})"
        ) from None


def seal(settings: SpringboardSettings, secret: str) -> str:
    return PREFIX + Fernet(_key(settings)).encrypt(secret.encode()).decode()


def open_sealed(settings: SpringboardSettings, sealed: str) -> str:
    if not sealed.startswith(PREFIX):
        raise SealError("not a sealed value")
    try:
        return Fernet(_key(settings)).decrypt(sealed.removeprefix(PREFIX).encode()).decode()
    except (InvalidToken, ValueError):
        raise SealError("sealed with another key") from None
