"""The README's first command, ``springboard demo``, as a newcomer runs it: it shows the
first suggestions and returns; with ``--keep-running`` it serves the sample owner's page
until Ctrl-C, and stops everything it started, however often Ctrl-C is pressed."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)


def _demo(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.cli", "demo", *args]


def _environment(tmp_path: Path) -> dict[str, str]:
    # The embedded default: no broker, database or secret set by the caller.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINGBOARD_")}
    return env | {"HOME": str(tmp_path)}


def test_the_demo_prints_the_first_suggestions_and_returns(tmp_path: Path) -> None:
    done = subprocess.run(
        _demo(),
        capture_output=True,
        text=True,
        timeout=300,
        env=_environment(tmp_path),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    found = re.search(r"(\d+) suggestions in", output)
    assert found, output
    assert int(found.group(1)) >= 1
    assert "Network of maria.lindqvist" in output
    assert "--keep-running" in output


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 300
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"no {text!r}: {log.read_text()}"
        time.sleep(0.2)
    return log.read_text()


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def test_keep_running_serves_the_page_and_two_ctrl_c_stop_everything(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            _demo("--keep-running"), stdout=out, stderr=out, env=_environment(tmp_path)
        )
    try:
        shown = _wait_for(log, "Running; press Ctrl-C to stop.", process)
        link = re.search(r"your page\s+(http://\S+/me/sign-in\?t=\S+)", shown)
        broker = re.search(r"Broker: (\S+)", shown)
        assert link, shown
        assert broker, shown
        with urllib.request.urlopen(link.group(1), timeout=10) as page:
            assert page.status == 200
            assert "Open my page" in page.read().decode()
        time.sleep(1)
        assert process.poll() is None, "the demo must keep running until Ctrl-C"
        process.send_signal(signal.SIGINT)
        time.sleep(0.2)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # impatient: a second Ctrl-C while stopping
        code = process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert code == 130, output
    assert output.rstrip().endswith("Stopped."), output
    assert "Traceback" not in output
    assert not _listening(broker.group(1)), "the embedded broker outlived the demo"
