"""Time and peak memory of ``springboard import --dry-run`` on hostile and large files.

``python -m bench.hostile_imports [--json] [--quick]`` writes each file to a scratch folder,
runs the import command on it as its own process, and reports per file: seconds, peak RSS
in MB (from the process's own rusage), exit code, and what the summary counted. The files
are built here from their description (the originals are real exports kept elsewhere):

- ``rrule_byhour_byminute``: one DAILY rule with BYHOUR=0..23 and BYMINUTE=0..59;
- ``rrule_bysecond``: one DAILY rule with BYSECOND=0..59;
- ``daily_series_2000``: 2,000 daily series of meetings (about 400 KB);
- ``daily_from_year_1``: 50 daily series that start in the year 1;
- ``calendar_1gb``: a 1 GB calendar (a sparse file: refused by its size, never read);
- ``photo_10mb``: a vCard with a 10 MB photo, then a second card;
- ``calendar_as_vcard``: a 4,778-event calendar imported as a vCard file;
- ``events_4778``: a 4,778-entry personal calendar shaped like a Google export (meetings
  with attendees, all-day entries, weekly series): the ordinary case, for its speed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report

Writer = Callable[[Path, bool], None]


def _calendar(path: Path, events: list[str]) -> None:
    with path.open("w", newline="") as handle:
        handle.write(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
            "X-WR-CALNAME:owner@example.com\r\nX-WR-TIMEZONE:Europe/Stockholm\r\n"
        )
        for body in events:
            handle.write(f"BEGIN:VEVENT\r\n{body}\r\nEND:VEVENT\r\n")
        handle.write("END:VCALENDAR\r\n")


def _rule(uid: str, start: str, rule: str) -> str:
    return (
        f"UID:{uid}\r\nDTSTART:{start}\r\nDTEND:{start[:-3]}30Z\r\nRRULE:{rule}\r\n"
        f"SUMMARY:{uid}\r\nATTENDEE;CN=Ann Ek:mailto:ann@x.example"
    )


def byhour_byminute(path: Path, _quick: bool) -> None:
    hours, minutes = ",".join(map(str, range(24))), ",".join(map(str, range(60)))
    _calendar(
        path, [_rule("flood", "20261201T000000Z", f"FREQ=DAILY;BYHOUR={hours};BYMINUTE={minutes}")]
    )


def bysecond(path: Path, _quick: bool) -> None:
    seconds = ",".join(map(str, range(60)))
    _calendar(path, [_rule("flood", "20261201T000000Z", f"FREQ=DAILY;BYSECOND={seconds}")])


def daily_series(path: Path, quick: bool) -> None:
    n = 200 if quick else 2000
    _calendar(path, [_rule(f"s{i}", "20240101T090000Z", "FREQ=DAILY") for i in range(n)])


def daily_from_year_1(path: Path, _quick: bool) -> None:
    _calendar(path, [_rule(f"y{i}", "00010101T090000Z", "FREQ=DAILY") for i in range(50)])


def calendar_1gb(path: Path, _quick: bool) -> None:
    with path.open("wb") as handle:
        handle.truncate(2**30)


def photo_10mb(path: Path, quick: bool) -> None:
    photo = base64.b64encode(os.urandom(1_000_000 if quick else 7_500_000)).decode()
    lines = "\r\n ".join(photo[i : i + 74] for i in range(0, len(photo), 74))
    with path.open("w", newline="") as handle:
        handle.write(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berg\r\nEMAIL:anna@x.example\r\n"
            f"PHOTO;ENCODING=b;TYPE=JPEG:{lines}\r\nEND:VCARD\r\n"
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo Ek\r\nEND:VCARD\r\n"
        )


def _personal_calendar(quick: bool) -> list[str]:
    events = []
    for i in range(478 if quick else 4778):
        day = f"20{22 + i % 5}{1 + i % 12:02d}{1 + i % 28:02d}"
        if i % 10 == 0:  # an all-day entry of the owner's own
            events.append(f"UID:d{i}@google.com\r\nDTSTART;VALUE=DATE:{day}\r\nSUMMARY:Dentist")
        elif i % 50 == 1:  # a weekly series
            events.append(_rule(f"w{i}@google.com", f"{day}T080000Z", "FREQ=WEEKLY;COUNT=40"))
        else:
            events.append(
                f"UID:m{i}@google.com\r\nDTSTART:{day}T{8 + i % 9:02d}0000Z\r\n"
                f"DTEND:{day}T{9 + i % 9:02d}0000Z\r\nSUMMARY:Meeting {i}\r\n"
                "ORGANIZER;CN=Owner:mailto:owner@example.com\r\n"
                "ATTENDEE;CN=Owner;PARTSTAT=ACCEPTED:mailto:owner@example.com\r\n"
                f"ATTENDEE;CN=Person {i % 300};PARTSTAT=ACCEPTED:mailto:p{i % 300}@x.example"
            )
    return events


def calendar_as_vcard(path: Path, quick: bool) -> None:
    _calendar(path, _personal_calendar(quick))


def events_4778(path: Path, quick: bool) -> None:
    _calendar(path, _personal_calendar(quick))


CASES: dict[str, tuple[str, str, Writer]] = {
    "rrule_byhour_byminute": ("ics", "flood.ics", byhour_byminute),
    "rrule_bysecond": ("ics", "seconds.ics", bysecond),
    "daily_series_2000": ("ics", "series.ics", daily_series),
    "daily_from_year_1": ("ics", "ancient.ics", daily_from_year_1),
    "calendar_1gb": ("ics", "huge.ics", calendar_1gb),
    "photo_10mb": ("vcard", "photo.vcf", photo_10mb),
    "calendar_as_vcard": ("vcard", "calendar.ics", calendar_as_vcard),
    "events_4778": ("ics", "personal.ics", events_4778),
}


def _run(kind: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli",
            "import",
            kind,
            str(path),
            "--owner",
            "bench",
            "--dry-run",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "SPRINGBOARD_DATA_DIR": str(path.parent)},
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        summary = json.loads(out)
    except ValueError:
        summary = {}
    return {
        "seconds": round(seconds, 2),
        "rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": process.returncode,
        "size_bytes": path.stat().st_size,
        "counts": {k: v for k, v in summary.get("counts", {}).items() if v},
        "rejected": len(summary.get("rejected", [])),
    }


def measure(quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (kind, file_name, write) in CASES.items():
            path = Path(scratch) / file_name
            write(path, quick)
            results[name] = _run(kind, path)
            path.unlink()
    return results


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
