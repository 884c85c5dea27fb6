"""A person's own network, end to end, as a new user runs it: ``springboard up`` on a data
directory, ``owner``, ``import`` of the real producers' exports, ``suggestions --json``;
then ``up`` again, which keeps every owner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from services.ingest.normalise import not_a_person
from shared.embedded_broker import free_port
from tests.real_files import real_files

pytestmark = pytest.mark.integration

OWNER = "real-owner"
OWNER_ADDRESS = "confirmed@example.com"  # the organiser of the Apple calendar's meetings
CALENDARS = real_files("node-ical", ".ics")
VCARDS = real_files("ez-vcard", ".vcf")


def springboard(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


class Up:
    """``springboard up`` as a background process, stopped with Ctrl-C (SIGINT)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log

    def __enter__(self) -> Up:
        self.errors = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.errors,
        )
        deadline = time.monotonic() + 120
        while "Springboard is up" not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "up did not start"
            time.sleep(0.3)
        return self

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(60)
        self.errors.close()
        return code

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def suggestions(env: dict[str, str], *, wait: float) -> list[dict[str, Any]]:
    """The owner's suggestions, polled until they stop changing (or ``wait`` passes)."""
    deadline, last, steady = time.monotonic() + wait, None, 0
    while time.monotonic() < deadline:
        out = springboard(env, "suggestions", "--owner", OWNER, "--json")
        assert out.returncode == 0, out.stderr
        found = json.loads(out.stdout)
        steady = steady + 1 if found and found == last else 0
        if steady >= 3:
            break
        last = found
        time.sleep(2)
    return last or []


@pytest.fixture(scope="module")
def own_network(tmp_path_factory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("own-network")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SPRINGBOARD_DATA_DIR": str(home / "data"),
        "SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "SPRINGBOARD_HTTP_PORT": str(free_port()),
    }
    with Up(env, home / "up.log") as up:
        said = springboard(
            env,
            "owner",
            "--owner",
            OWNER,
            "--name",
            "Real Owner",
            "--email",
            OWNER_ADDRESS,
            "--city",
            "Vancouver",
            "--target-role",
            "CFO",
            "--json",
        )
        assert said.returncode == 0, said.stderr
        imports = {}
        for path in [*VCARDS, *CALENDARS]:
            kind = "vcard" if path.suffix == ".vcf" else "ics"
            out = springboard(env, "import", kind, str(path), "--owner", OWNER, "--json")
            assert out.returncode in (0, 1), out.stderr  # 1: nothing in it to import
            assert "Traceback" not in out.stderr
            imports[path.name] = json.loads(out.stdout) if out.stdout else None
        found = suggestions(env, wait=90)
        assert up.stop() == 0
    return {"env": env, "home": home, "imports": imports, "suggestions": found}


def test_the_real_exports_give_suggestions_worth_acting_on(own_network) -> None:
    found = own_network["suggestions"]
    assert found, "no suggestion from the real exports"
    for item in found:
        name = item["subject_name"].lower()
        assert OWNER_ADDRESS not in name
        assert "real owner" not in name
        assert not_a_person(name) is None if "@" in name else True
        assert item["reasons"]
        assert item["score"] > 0


def test_a_personal_calendar_alone_yields_no_event_and_the_cancelled_one_never(own_network) -> None:
    assert not [s for s in own_network["suggestions"] if s["kind"] == "event"]
    assert not [s for s in own_network["suggestions"] if "cancelled" in s["headline"].lower()]
    apple = own_network["imports"]["tentative-apple-calendar.ics"]
    assert apple["counts"]["events"] == 0
    assert apple["counts"]["meetings"] == 3


def test_restarting_up_keeps_every_owner(own_network) -> None:
    env = own_network["env"]
    with Up(env, own_network["home"] / "up-again.log") as up:
        again = springboard(env, "suggestions", "--owner", OWNER, "--json")
        mapped = springboard(env, "map", "--owner", OWNER)
        assert up.stop() == 0
    assert json.loads(again.stdout) == own_network["suggestions"]
    assert f"Network of {OWNER}: " in mapped.stdout
    assert " 0 contacts" not in mapped.stdout


def test_bad_arguments_are_one_line_exit_2_and_nothing_is_sent(tmp_path) -> None:
    # No broker at all: a command that got as far as sending would fail otherwise.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SPRINGBOARD_DATA_DIR": str(tmp_path),
        "SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    }
    cases = [
        ("owner", "--owner", "o1", "--name", "A", "--email", "not-an-address"),
        ("favour", "--owner", "o1", "--person", "ann@x.example", "--given", "--kind", "bribe"),
        ("favour", "--owner", "o1", "--person", "ann@x.example", "--kind", "help"),
        ("preferences", "--owner", "o1", "--budget", "-1"),
        ("preferences", "--owner", "o1", "--quiet-hours", "25-07"),
        ("preferences", "--owner", "o1", "--timezone", "Mars/Base"),
        ("feedback", "--owner", "o1", "s-1", "maybe"),
        ("erase", "--owner", "bad owner!"),
    ]
    for args in cases:
        out = springboard(env, *args, timeout=60)
        assert out.returncode == 2, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, args
        assert "Traceback" not in out.stderr, args
    unreachable = springboard(env, "feedback", "--owner", "o1", "s-1", "done", timeout=60)
    assert unreachable.returncode == 1
    assert unreachable.stderr.strip().startswith("no broker at 127.0.0.1:")
    assert "Unclosed" not in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    missing = springboard(env, "suggestions", "--owner", "o1", timeout=60)
    assert missing.returncode == 1
    assert "springboard up" in missing.stderr
    down = {
        **env,
        "SPRINGBOARD_DATABASE__URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test",
    }
    for command in ("map", "merges", "suggestions"):
        out = springboard(down, command, "--owner", "o1", timeout=60)
        assert out.returncode == 1, (command, out.stderr)
        assert out.stderr.startswith("cannot read the ")
        assert "database up" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
        assert "Traceback" not in out.stderr
