"""The keys the services sign and seal with, and the secrets sealed with them.

Keys: set in the settings, or, on the embedded default, kept in the data directory, made
on first use and readable by their owner only, so ``springboard up`` and every command run
beside it share them. The link secret signs sign-in links, page sessions and the services'
calls to each other.

Sealed secrets travel on Kafka, never in plain text: an owner's webhook secret is sealed
(Fernet: AES-128-CBC with HMAC-SHA256) by whoever sends the preferences and opened by the
notifier only, which signs deliveries with it. Its key is ``SPRINGBOARD_SECRETS_KEY`` (a
Fernet key), or ``secrets.key`` in the data directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shared.settings import SpringboardSettings


class KeyUnavailable(ValueError):
    """No key was set and none can be made in the data directory."""


def key_in_data_dir(path: Path, make: Callable[[], bytes], setting: str) -> bytes:
    """The key in ``path``, made with ``make`` if there is none yet. Services starting
    together on one data directory agree: the key is written whole to a file of its own,
    then linked into place, and whoever comes second reads the first one's."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(make())
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
            finally:
                draft.unlink(missing_ok=True)
        return path.read_bytes().strip()
    except OSError as error:  # a read-only data directory, as in a locked-down container
        raise KeyUnavailable(f"set {setting} ({path} cannot be made: {error.strerror})") from None


def link_secret(settings: SpringboardSettings) -> str:
    """What signs sign-in links, page sessions and the services' calls to each other."""
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value()
    made = key_in_data_dir(
        Path(settings.data_dir) / "link.key",
        lambda: secrets.token_urlsafe(48).encode(),
        "SPRINGBOARD_LINK_SECRET",
    )
    return made.decode()


def page_secret(settings: SpringboardSettings) -> str | None:
    """The link secret for a service: None (its page and calls are off) where none can be made."""
    try:
        return link_secret(settings)
    except KeyUnavailable:
        return None


# -- Sealed secrets ------------------------------------------------------------


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
