"""Keys the embedded default keeps in its data directory: made on first use, readable by
their owner only, so ``springboard up`` and every command run beside it share them."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

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
