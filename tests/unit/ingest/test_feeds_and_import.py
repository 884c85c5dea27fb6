"""Feed polling with ETag, and the import command's JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.ingest import feeds

CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
    b"DTSTART:20261203T073000Z\r\nSUMMARY:Fintech Breakfast\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class FeedServer(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_GET(self) -> None:
        FeedServer.requests.append(dict(self.headers))
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Type", "text/calendar")
        self.end_headers()
        self.wfile.write(CALENDAR)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def feed_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/calendar.ics"
    server.shutdown()


def test_a_feed_is_fetched_once_and_then_answered_not_modified(feed_url, tmp_path) -> None:
    cache = feeds.FeedCache(tmp_path / "feeds.json")
    first = feeds.fetch(feed_url, cache)
    assert b"".join(first.chunks) == CALENDAR
    second = feeds.fetch(feed_url, cache)
    assert second.chunks is None
    assert FeedServer.requests[-1]["If-None-Match"] == '"v1"'


def run_import(*args: str, env_dir) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"SPRINGBOARD_DATA_DIR": str(env_dir), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout)


def test_the_json_summary_counts_exactly_and_lists_every_rejected_row(tmp_path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "First Name,Last Name,E-mail Address,Business Phone,Company\n"
        "Ann,Ek,ann@x.example,,X\n"
        ",,,,Nobody\n"
        "Bo,Ek,bad-mail,,Y\n"
        ",,,,Nobody either\n"
    )
    summary = run_import("csv", str(path), "--owner", "o1", "--dry-run", env_dir=tmp_path)
    assert summary["counts"] == {"contacts": 2, "meetings": 0, "events": 0, "attendance": 0}
    assert [r["line"] for r in summary["rejected"]] == [3, 5]
    assert [w["line"] for w in summary["warnings"]] == [4]
    assert summary["dry_run"]
    assert summary["published"] == 0


def test_a_feed_url_imports_and_reports_when_unchanged(feed_url, tmp_path) -> None:
    first = run_import("ics", feed_url, "--owner", "o1", "--events", "--dry-run", env_dir=tmp_path)
    assert first["counts"]["events"] == 1
    again = run_import("ics", feed_url, "--owner", "o1", "--events", "--dry-run", env_dir=tmp_path)
    assert again["unchanged"]
    assert again["counts"]["events"] == 0


def test_odd_file_names_import_like_any_other(tmp_path) -> None:
    path = tmp_path / "-kontakter för Åsa ✓ (1).vcf"
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Åsa Ek\r\nEMAIL:asa@x.example\r\nEND:VCARD\r\n"
    )
    summary = run_import("vcard", str(path), "--owner", "o1", "--dry-run", env_dir=tmp_path)
    assert summary["counts"]["contacts"] == 1
    assert summary["source"] == str(path)


def test_a_missing_file_is_a_clear_error_not_a_traceback(tmp_path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "import",
            "vcard",
            str(tmp_path / "nope.vcf"),
            "--owner",
            "o1",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"SPRINGBOARD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert "cannot import" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr
