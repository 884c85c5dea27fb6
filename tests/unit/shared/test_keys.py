"""Keys the embedded default keeps in its data directory."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.keys import KeyUnavailable, key_in_data_dir, link_secret
from shared.settings import SpringboardSettings


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = link_secret(SpringboardSettings(data_dir=tmp_path))
    assert link_secret(SpringboardSettings(data_dir=tmp_path)) == first
    assert len(first) >= 48
    assert (tmp_path / "link.key").stat().st_mode & 0o777 == 0o600
    assert link_secret(SpringboardSettings(data_dir=tmp_path, link_secret="set")) == "set"


def test_services_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "link.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(
            pool.map(
                lambda _: key_in_data_dir(
                    path, lambda: secrets.token_bytes(32).hex().encode(), "X"
                ),
                range(32),
            )
        )
    assert len(keys) == 1
    assert [p.name for p in path.parent.iterdir()] == ["link.key"]  # no drafts left


def test_a_data_directory_that_cannot_hold_it_says_which_setting_to_set(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data directory should be")
    with pytest.raises(KeyUnavailable, match="set SPRINGBOARD_LINK_SECRET"):
        link_secret(SpringboardSettings(data_dir=not_a_folder))
