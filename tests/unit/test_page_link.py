"""``springboard open``: a sign-in link printed, or e-mailed through a real SMTP server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.notifier import store
from services.notifier.models import TABLES
from services.notifier.page.sessions import Sessions
from shared import database
from shared.keys import link_secret
from shared.messages import GoalsSet
from shared.settings import SpringboardSettings
from tests.receivers import smtp_server

LINK = re.compile(r"http://127\.0\.0\.1:8003/me/sign-in\?t=\S+")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPRINGBOARD_DATA_DIR", str(tmp_path))
    for name in ("SPRINGBOARD_SMTP_HOST", "SPRINGBOARD_LINK_SECRET", "SPRINGBOARD_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def owner_of(link: str, data_dir: Path) -> str:
    token = link.split("t=", 1)[1]
    secret = link_secret(SpringboardSettings(data_dir=data_dir))
    return Sessions(secret, sign_in_seconds=900, session_seconds=60).owner_of_sign_in(token)


def test_the_link_is_printed_and_signs_in_that_owner(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["open", "--owner", "maria"])
    assert result.exit_code == 0, result.output
    [link] = LINK.findall(result.stdout)
    assert owner_of(link, data_dir) == "maria"


def test_a_bad_owner_id_is_one_line_and_exit_2(data_dir: Path) -> None:  # noqa: ARG001
    result = CliRunner().invoke(app, ["open", "--owner", "not an id!"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "invalid owner id" in result.output


def test_e_mail_needs_an_smtp_server(data_dir: Path) -> None:  # noqa: ARG001
    result = CliRunner().invoke(app, ["open", "--owner", "maria", "--email"])
    assert result.exit_code == 1
    assert "SPRINGBOARD_SMTP_HOST" in result.output


def test_the_link_is_e_mailed_to_the_owners_own_address(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = database.make_engine(f"sqlite:///{data_dir / 'notifier.db'}")
    database.create_tables(engine, TABLES)
    with database.transaction(engine) as session:
        goals = GoalsSet(full_name="Maria Lindqvist", emails=["maria@example.com"])
        store.save_goals(session, owner_id="maria", goals=goals)
    engine.dispose()
    with smtp_server() as (port, inbox):
        monkeypatch.setenv("SPRINGBOARD_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SPRINGBOARD_SMTP_PORT", str(port))
        monkeypatch.setenv("SPRINGBOARD_SMTP_STARTTLS", "false")
        result = CliRunner().invoke(app, ["open", "--owner", "maria", "--email"])
        nobody = CliRunner().invoke(app, ["open", "--owner", "olof", "--email"])
    assert result.exit_code == 0, result.output
    assert "maria@example.com" in result.stdout
    [mail] = inbox.messages
    assert mail["To"] == "maria@example.com"
    [link] = LINK.findall(mail.get_body(("plain",)).get_content())
    assert owner_of(link, data_dir) == "maria"
    assert nobody.exit_code == 1
    assert "no address for olof" in nobody.output
