"""A first sync and a no-change sync of a 4,000-event calendar over CalDAV.

``python -m bench.dav_sync [--quick] [--json]``. Radicale (the CalDAV server the tests use)
runs on a loopback port with the calendar uploaded whole; the sync publishes to the
embedded broker and keeps its state in a SQLite store, as ``springboard sync caldav``
does on a laptop. Each event is a meeting with two people besides the owner. Measured:
wall seconds of each sync (discovery, the sync report, the multigets, parsing,
publishing and storing the state), what each published, and the requests it made.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import report
from services.ingest.dav import Kind
from services.ingest.sync_command import sync_once
from shared.embedded_broker import EmbeddedBroker
from shared.settings import KafkaSettings, SpringboardSettings
from tests.dav_server import PASSWORD, USER, Radicale


def calendar(events: int) -> str:
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//springboard bench//EN"]
    for n in range(events):
        day = 1 + n % 28
        month = 1 + (n // 28) % 12
        out += [
            "BEGIN:VEVENT",
            f"UID:bench-{n}@springboard.example",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:2026{month:02d}{day:02d}T{8 + n % 9:02d}0000Z",
            "DURATION:PT1H",
            f"SUMMARY:Meeting {n}",
            "ORGANIZER:mailto:maria@example.com",
            "ATTENDEE:mailto:maria@example.com",
            f"ATTENDEE;CN=Person {n % 300}:mailto:person{n % 300}@example.org",
            f"ATTENDEE;CN=Person {(n * 7) % 300}:mailto:person{(n * 7) % 300}@example.org",
            "END:VEVENT",
        ]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def timed_sync(settings: SpringboardSettings, url: str) -> tuple[float, Any]:
    started = time.perf_counter()
    [(_, result)] = sync_once(
        Kind.caldav,
        url,
        owner="bench",
        username=USER,
        secret=PASSWORD,
        names=(),
        settings=settings,
        zone="Europe/Stockholm",
    )
    return time.perf_counter() - started, result


def measure(quick: bool) -> dict[str, Any]:
    events = 400 if quick else 4000
    with tempfile.TemporaryDirectory() as folder, EmbeddedBroker() as broker:
        home = Path(folder)
        (home / "radicale").mkdir()
        with Radicale(home / "radicale") as server:
            url = server.make_calendar("work")
            with httpx.Client(auth=(USER, PASSWORD), timeout=300) as http:
                uploaded = http.put(
                    url,
                    content=calendar(events).encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"},
                )
                assert uploaded.status_code in (200, 201), uploaded.text
            settings = SpringboardSettings(
                data_dir=home, kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
            )
            first_s, first = timed_sync(settings, url)
            again_s, again = timed_sync(settings, url)
    return {
        "events": events,
        "first_sync_s": round(first_s, 2),
        "first_published": first.published,
        "first_requests": first.requests,
        "no_change_sync_s": round(again_s, 3),
        "no_change_published": again.published,
        "no_change_requests": again.requests,
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
