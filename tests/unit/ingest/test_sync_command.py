"""``springboard sync``'s refusals: one line each, an exit code that tells what happened,
no traceback and never the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.embedded_broker import free_port


@pytest.fixture(autouse=True)
def own_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPRINGBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPRINGBOARD_DAV_PASSWORD", "a-secret-that-must-not-show")


def run(*arguments: str):
    return CliRunner().invoke(app, ["sync", *arguments])


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["webdav", "https://dav.example/", "--owner", "me"], "caldav or carddav"),
        (["caldav", "ftp://dav.example/", "--owner", "me"], "not an http(s) URL"),
        (["caldav", "https://dav.example/", "--owner", "not an id!"], "invalid owner id"),
        (["caldav", "https://dav.example/", "--owner", "me", "--watch", "0"], "--watch"),
        (
            ["caldav", "https://dav.example/", "--owner", "me", "--password-file", "/nope/pw"],
            "--password-file",
        ),
    ],
)
def test_arguments_it_cannot_use_exit_2_with_one_line(arguments: list[str], said: str) -> None:
    result = run(*arguments)
    assert result.exit_code == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_server_that_is_not_there_exits_1_with_one_line_and_no_secret() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = run("caldav", url, "--owner", "me", "--username", "me@example.com")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "ConnectError" in result.stderr
    assert "a-secret-that-must-not-show" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
