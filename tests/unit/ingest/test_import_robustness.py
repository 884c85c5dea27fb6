"""Imports that lose nothing to one bad line, stay bounded on hostile files, and tell the
truth: each case below is a file a real exporter or an attacker writes."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from services.ingest import canonical, import_command
from services.ingest.models import TABLES, IngestPerson
from services.ingest.parsers import csv_formats, ics, vcard
from services.ingest.parsers.common import Parsed, Problem
from services.ingest.store import IngestWork
from shared import database, topics
from shared.messages.inputs import MeetingRecorded
from tests.real_files import real_files

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        f"{body}END:VCALENDAR\r\n"
    ).encode()


def event(uid: str, start: str = "20261203T073000Z", extra: str = "") -> str:
    lines = [f"UID:{uid}", f"DTSTART:{start}", f"SUMMARY:Event {uid}", *extra.split("\n")]
    return "\r\n".join(line for line in lines if line)


def meeting(uid: str, start: str = "20261203T090000Z", extra: str = "") -> str:
    return event(uid, start, f"ATTENDEE;CN=Ann Ek:mailto:ann@x.example\n{extra}")


def parse_ics(data: bytes, *, events: bool = True) -> list:
    """As an event feed unless told otherwise: these entries stand for events to attend."""
    return list(ics.parse([data], now=NOW, zone="Europe/Stockholm", events=events))


def parsed(items: list, topic: str | None = None) -> list:
    return [i for i in items if isinstance(i, Parsed) and (topic is None or i.topic == topic)]


def problems(items: list, severity: str) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem) and i.severity == severity]


def run(tmp_path, capsys, kind: str, name: str, data: bytes, *args: str) -> tuple[int, str, str]:
    """The import command in this process, on a file: (exit code, stdout, stderr)."""
    path = tmp_path / name
    path.write_bytes(data)
    options = {"fmt": None, "timezone": "Europe/Stockholm", "as_json": True}
    for arg in args:
        key, _, value = arg.partition("=")
        options[key] = value if value else False
    code = import_command.main(
        kind=kind,
        sources=[str(path)],
        owner="o1",
        fmt=options["fmt"],  # type: ignore[arg-type]
        mapping=None,
        event=None,
        timezone=options["timezone"],  # type: ignore[arg-type]
        dry_run=True,
        as_json=bool(options["as_json"]),
        watch=None,
        events=True,
    )
    out, err = capsys.readouterr()
    return code, out, err


# Calendars ------------------------------------------------------------------------------


def test_one_malformed_rrule_rejects_its_event_and_the_rest_imports(tmp_path, capsys) -> None:
    events = [meeting(f"m{i}", f"202612{i % 28 + 1:02d}T090000Z") for i in range(200)]
    broken = meeting("cdo", extra="RRULE:FREQ=WEEKLY;BYDAY=MO, TU, WE")
    code, out, _ = run(tmp_path, capsys, "ics", "google.ics", calendar(*events, broken))
    summary = json.loads(out)
    assert code == 0
    assert summary["counts"]["meetings"] == 200
    [rejected] = summary["rejected"]
    assert "'cdo'" in rejected["reason"]
    assert "RRULE" in rejected["reason"]
    assert rejected["line"] == 3 + 200 * 6 + 1  # the BEGIN:VEVENT of the broken event


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYHOUR="
        + ",".join(map(str, range(24)))
        + ";BYMINUTE="
        + ",".join(map(str, range(60))),
        "FREQ=DAILY;BYSECOND=" + ",".join(map(str, range(60))),
        "FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,30",
        "FREQ=MINUTELY",
    ],
    ids=["byhour-byminute", "bysecond", "weekly-twice-an-hour", "minutely"],
)
def test_a_rule_that_recurs_more_often_than_daily_is_refused_whatever_its_freq(rule) -> None:
    items = parse_ics(calendar(meeting("flood", "20261201T000000Z", f"RRULE:{rule}")))
    assert not parsed(items)
    [refused] = problems(items, "rejected")
    assert "'flood'" in refused.reason
    assert "meeting rhythm" in refused.reason


def test_a_daily_rule_is_still_expanded() -> None:
    items = parse_ics(calendar(meeting("standup", "20261101T090000Z", "RRULE:FREQ=DAILY;COUNT=20")))
    assert len(parsed(items, topics.MEETINGS)) == 20


def test_a_file_of_many_series_stops_at_the_cap_per_file_and_says_so() -> None:
    series = [meeting(f"s{i}", "20250101T090000Z", "RRULE:FREQ=DAILY") for i in range(60)]
    items = parse_ics(calendar(*series))
    assert len(parsed(items)) == ics.MAX_OCCURRENCES_PER_FILE
    capped = [p for p in problems(items, "rejected") if "cap" in p.reason]
    assert len(capped) == 1
    assert "series from this line on not expanded" in capped[0].reason


def test_a_series_that_walks_too_far_to_reach_the_window_is_refused() -> None:
    items = parse_ics(calendar(meeting("ancient", "00010101T090000Z", "RRULE:FREQ=DAILY")))
    [refused] = problems(items, "rejected")
    assert "'ancient'" in refused.reason
    assert "repetitions" in refused.reason


def test_a_calendar_over_the_limit_is_refused_before_it_is_read(tmp_path, capsys) -> None:
    path = tmp_path / "huge.ics"
    with path.open("wb") as handle:  # sparse: nothing is written, and nothing must be read
        handle.truncate(ics.MAX_BYTES + 1)
    code = import_command.main(
        kind="ics",
        sources=[str(path)],
        owner="o1",
        fmt=None,
        mapping=None,
        event=None,
        timezone="UTC",
        dry_run=True,
        as_json=True,
        watch=None,
    )
    _, err = capsys.readouterr()
    assert code == import_command.NOTHING_IMPORTED
    assert "over the limit" in err
    assert len(err.strip().splitlines()) == 1


def test_a_streamed_calendar_over_the_limit_stops_reading_at_the_limit() -> None:
    read = 0

    def chunks():
        nonlocal read
        while True:
            read += 1_000_000
            yield b"X" * 1_000_000

    items = list(ics.parse(chunks(), now=NOW))
    assert [p.severity for p in items] == ["rejected"]
    assert read <= ics.MAX_BYTES + 1_000_000


def test_a_recurring_series_with_an_unreadable_dtstart_is_rejected_by_name() -> None:
    broken = 'UID:exchange-2010\r\nDTSTART;TZID="W. Europe Standard Time:20200609T090000"\r\n'
    broken += "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Log time\r\nATTENDEE:mailto:ann@x.example"
    items = parse_ics(calendar(broken, meeting("fine")))
    assert len(parsed(items)) == 1
    [rejected] = problems(items, "rejected")
    assert "'exchange-2010'" in rejected.reason
    assert "DTSTART" in rejected.reason


def test_a_latin_1_calendar_is_read_as_such_with_a_warning() -> None:
    data = calendar(event("e1", extra="LOCATION:Björns Café, Storgatan 1, Göteborg"))
    data = data.decode().replace("SUMMARY:Event e1", "SUMMARY:Björn möter Åsa").encode("latin-1")
    items = parse_ics(data)
    [item] = parsed(items)
    assert item.data.title == "Björn möter Åsa"
    assert [p.line for p in problems(items, "warning")] == [1]


def test_a_cancelled_public_event_is_skipped_and_a_cancelled_meeting_counts_for_nothing() -> None:
    items = parse_ics(
        calendar(
            event("talk", extra="STATUS:CANCELLED"),
            meeting("lunch", extra="STATUS:CANCELLED"),
            event("fair"),
        )
    )
    assert [i.data.title for i in parsed(items, topics.EVENTS)] == ["Event fair"]
    [lunch] = parsed(items, topics.MEETINGS)
    assert lunch.data.cancelled
    [skipped] = problems(items, "skipped")
    assert "cancelled" in skipped.reason


def test_attendees_without_an_address_keep_the_meeting_a_meeting() -> None:
    confluence = event(
        "conf",
        extra="ATTENDEE;CN=Ann Ek;PARTSTAT=ACCEPTED:invalid:nomail\nATTENDEE;CN=Bo Lind:",
    )
    items = parse_ics(calendar(confluence))
    [item] = parsed(items)
    assert item.topic == topics.MEETINGS
    assert [(a.name, a.email) for a in item.data.attendees] == [("Ann Ek", None), ("Bo Lind", None)]


def test_one_unreadable_optional_property_drops_only_that_property() -> None:
    force = meeting("force", "20261204T090000Z", "DTEND: 20261204T100000Z\nURL:")
    items = parse_ics(calendar(force))
    [item] = parsed(items)
    assert item.data.starts_at == datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert item.data.ends_at is None
    [warning] = problems(items, "warning")
    assert "DTEND" in warning.reason
    assert warning.line == 4


def test_dotless_addresses_keep_their_people_by_name_and_repeated_warnings_are_counted(
    tmp_path, capsys
) -> None:
    attendees = "\n".join(f"ATTENDEE;CN=Person {i}:mailto:person{i}@lisbon" for i in range(125))
    code, out, _ = run(
        tmp_path, capsys, "ics", "lisbon.ics", calendar(event("sync", extra=attendees))
    )
    summary = json.loads(out)
    assert code == 0
    assert summary["counts"]["meetings"] == 1
    assert len(summary["warnings"]) == 5
    assert summary["not_listed"] == [
        {"severity": "warning", "kind": "attendee kept by name", "count": 120}
    ]


def test_people_known_by_name_only_become_one_person_per_name() -> None:
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, TABLES)
    [first, second] = [
        parsed(parse_ics(calendar(event(uid, start, "ATTENDEE;CN=Ana Silva:mailto:ana@lisbon"))))[0]
        for uid, start in (("a", "20261101T090000Z"), ("b", "20261108T090000Z"))
    ]
    for item in (first, second):
        assert isinstance(item.data, MeetingRecorded)
        with database.transaction(engine, IngestWork) as session:
            canonical.apply(session, owner_id="o1", source="ics", data=item.data)
    with database.transaction(engine, IngestWork) as session:
        names = [p.full_name for p in session.exec(select(IngestPerson))]
    assert names == ["Ana Silva"]


# Address books and CRM exports ----------------------------------------------------------


def card_with_photo(photo_lines: int, *, folded: bool) -> bytes:
    data = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3"
    if folded:
        photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "".join(f"\r\n {data}" for _ in range(photo_lines))
        version = "3.0"
    else:
        photo = (
            "PHOTO;ENCODING=BASE64;TYPE=JPEG:"
            + "".join(f"\r\n{data}" for _ in range(photo_lines))
            + "\r\n"
        )
        version = "2.1"
    return (
        f"BEGIN:VCARD\r\nVERSION:{version}\r\nFN:Anna Berg\r\n{photo}\r\n"
        "EMAIL:anna@x.example\r\nTEL:+46 70 123 45 67\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo Ek\r\nEND:VCARD\r\n"
    ).encode()


@pytest.mark.parametrize("folded", [True, False], ids=["vcard3-folded", "vcard21-unfolded"])
def test_a_contact_with_a_large_photo_is_kept_and_nothing_floods(folded) -> None:
    lines = card_with_photo(8_000, folded=folded).splitlines(keepends=True)  # ~650 KB of photo
    items = list(vcard.parse(lines))
    contacts = parsed(items)
    assert [c.data.full_name for c in contacts] == ["Anna Berg", "Bo Ek"]
    assert contacts[0].data.emails == ["anna@x.example"]
    assert not [i for i in items if isinstance(i, Problem)]


def test_a_calendar_imported_as_vcard_is_one_error_and_exit_1(tmp_path, capsys) -> None:
    data = calendar(*[event(f"e{i}") for i in range(500)])
    code, out, _ = run(tmp_path, capsys, "vcard", "calendar.ics", data)
    summary = json.loads(out)
    assert code == import_command.NOTHING_IMPORTED
    assert [r["reason"].split(" (")[0] for r in summary["rejected"]] == ["not a vCard file"]
    assert summary["warnings"] == []


HUBSPOT_WITH_COMPANY = (
    "Record ID - Contact,First Name,Last Name,Email,Phone Number,Last Activity Date,"
    "Associated Company,Record ID - Company,Company name,Phone Number,Last Activity Date\n"
    "51,Sara,Ek,sara@klarmynt.example,070-123 45 67,2026-10-01 10:00,Klarmynt AB,900,"
    "Klarmynt AB,08-999 99 99,2026-11-20 08:00\n"
    "52,Per,Holm,per@klarmynt.example,,,Klarmynt AB,900,Klarmynt AB,08-999 99 99,2026-11-20 08:00\n"
)


def csv_items(text: str, **kwargs) -> list:
    return list(
        csv_formats.parse([line.encode() for line in text.splitlines(keepends=True)], **kwargs)
    )


def test_hubspot_company_columns_never_overwrite_the_contacts_own() -> None:
    items = csv_items(HUBSPOT_WITH_COMPANY)
    sara, per = parsed(items, topics.CONTACTS)
    assert sara.data.phones == ["070-123 45 67"]
    assert per.data.phones == []
    [activity] = parsed(items, topics.MEETINGS)
    assert activity.data.starts_at.date().isoformat() == "2026-10-01"


SALESFORCE_REPORT_WITH_FOOTER = (
    '"Contact ID","First Name","Last Name","Title","Account Name","Email"\n'
    '"003xx1","Ola","Ström","Controller","Kvarnby Handel AB","ola@kvarnby.example"\n'
    '"003xx2","Eva","Lund","CFO","Kvarnby Handel AB","eva@kvarnby.example"\n'
    '""\n'
    '"Grand Totals (2 records)"\n'
    '""\n'
    '"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
)


def test_salesforce_report_footers_are_not_contacts() -> None:
    items = csv_items(SALESFORCE_REPORT_WITH_FOOTER)
    assert [c.data.full_name for c in parsed(items)] == ["Ola Ström", "Eva Lund"]
    problems = [i for i in items if isinstance(i, Problem)]
    assert problems, "the footer lines are reported, as skipped"
    assert {(p.severity, p.kind) for p in problems} == {("skipped", "footer")}


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            "First Name,Last Name,Email Address,Company,Position,Connected On",
            "Anna,Berg,anna@x.example,Nordbank AB,CFO,09 Oct 2024",
            ("linkedin", "Anna Berg", "anna@x.example", "Nordbank AB"),
        ),
        (
            "Lead Owner,First Name,Last Name,Title,Company / Account,Email,Phone,Lead Status",
            "Maria L,Per,Holm,CIO,Hötorget AB,per@hotorget.example,+46 8 123 456,Open",
            ("salesforce", "Per Holm", "per@hotorget.example", "Hötorget AB"),
        ),
        (
            "Anrede,Vorname,Weitere Vornamen,Nachname,Suffix,Firma,Abteilung,Position,"
            "Telefon geschäftlich,Mobiltelefon,E-Mail-Adresse,E-Mail-Typ",
            "Frau,Jana,,Müller,,Bankhaus AG,,CFO,+49 30 1234567,,jana@bankhaus.example,SMTP",
            ("outlook", "Jana Müller", "jana@bankhaus.example", "Bankhaus AG"),
        ),
        (
            "Prénom,Nom,Société,Fonction,Téléphone (bureau),Adresse de messagerie",
            "Luc,Martin,Banque Nord,DSI,+33 1 23 45 67 89,luc@banque.example",
            ("outlook", "Luc Martin", "luc@banque.example", "Banque Nord"),
        ),
    ],
    ids=["linkedin-without-url", "salesforce-lead-report", "outlook-german", "outlook-french"],
)
def test_more_headers_are_recognised(header, row, expected) -> None:
    fmt = csv_formats.detect(header.split(","))
    assert fmt is not None
    assert fmt.name == expected[0]
    [contact] = parsed(csv_items(f"{header}\n{row}\n"))
    assert (contact.data.full_name, contact.data.emails[0], contact.data.company) == expected[1:]


def test_format_salesforce_picks_the_variant_the_header_is_in() -> None:
    report = (
        "Contact ID,First Name,Last Name,Account Name,Email\n003,Ola,Ström,Kvarnby,ola@k.example\n"
    )
    [contact] = parsed(csv_items(report, fmt_name="salesforce"))
    assert contact.data.full_name == "Ola Ström"
    assert contact.data.emails == ["ola@k.example"]
    [also] = parsed(csv_items(report, fmt_name="salesforce-report"))
    assert also.data == contact.data
    refused = csv_items(report, fmt_name="salesforce-api")
    assert not parsed(refused)
    assert "name or e-mail columns" in problems(refused, "rejected")[0].reason


def test_google_multi_value_cells_are_split() -> None:
    google = (
        "Name,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Value\n"
        "Ida Holm,* Work ::: Home,ida@work.example ::: ida@home.example,+46 73 555 01 02 ::: +46 8 555 01 02\n"
    )
    [contact] = parsed(csv_items(google))
    assert contact.data.emails == ["ida@work.example", "ida@home.example"]
    assert contact.data.phones == ["+46 73 555 01 02", "+46 8 555 01 02"]


def test_an_over_long_phone_cell_is_dropped_and_the_row_kept() -> None:
    hubspot = (
        "Record ID - Contact,First Name,Last Name,Email,Phone Number,Mobile Phone Number\n"
        "51,Sara,Ek,sara@x.example,+46 70 123 45 67 (switchboard; ask for Sara in sales),070-1\n"
    )
    items = csv_items(hubspot)
    [contact] = parsed(items)
    assert contact.data.phones == ["070-1"]
    [warning] = problems(items, "warning")
    assert "over 40 characters" in warning.reason


# What every import tells the user -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("csv", b"Foo,Bar,Baz\n1,2,3\n", "unknown CSV format"),
        ("csv", b"", "empty"),
        ("vcard", b"\n\n  \n", "empty"),
        ("vcard", bytes(range(256)) * 4, "binary"),
        ("ics", gzip.compress(b"BEGIN:VCALENDAR\r\n"), "gzip"),
        ("vcard", b"PK\x03\x04" + b"\x00" * 100, "zip"),
        ("csv", b"First Name,Last Name,E-mail Address,Business Phone\n,,,\n", "Nothing to import"),
    ],
    ids=["unknown-csv", "empty", "blank", "binary", "gzip", "zip", "every-row-rejected"],
)
def test_nothing_imported_exits_1_with_one_clear_line(
    tmp_path, capsys, kind, data, message
) -> None:
    code, out, err = run(tmp_path, capsys, kind, "input", data, "as_json=")
    assert code == import_command.NOTHING_IMPORTED
    assert message in out + err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf_16_export_is_read_as_text(tmp_path, capsys, encoding) -> None:
    text = "First Name,Last Name,E-mail Address,Business Phone\r\nÅsa,Ek,asa@x.example,\r\n"
    code, out, _ = run(tmp_path, capsys, "csv", "outlook.csv", text.encode(encoding))
    assert code == 0
    assert json.loads(out)["counts"]["contacts"] == 1


def test_a_partial_import_exits_0_and_lists_what_it_left_out(tmp_path, capsys) -> None:
    data = b"First Name,Last Name,E-mail Address,Business Phone\nAnn,Ek,ann@x.example,\n,,,n/a\n"
    code, out, _ = run(tmp_path, capsys, "csv", "partial.csv", data)
    summary = json.loads(out)
    assert code == 0
    assert summary["counts"]["contacts"] == 1
    assert len(summary["rejected"]) == 1


def test_an_unknown_time_zone_is_one_line_and_exit_2(tmp_path) -> None:
    path = tmp_path / "c.ics"
    path.write_bytes(calendar(event("e1")))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "import",
            "ics",
            str(path),
            "--owner",
            "o1",
            "--timezone",
            "Mars/Base",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "unknown time zone 'Mars/Base' (e.g. Europe/Stockholm)"
    assert out.stdout == ""


def test_control_characters_from_a_file_never_reach_the_terminal(tmp_path, capsys) -> None:
    hostile = "\x1b]0;owned\x07\x1b[2J\x9b31m"
    data = calendar(event("e1", extra=f'ATTENDEE;CN="{hostile}":mailto:x@nowhere'))
    code, out, _ = run(tmp_path, capsys, "ics", "hostile.ics", data, "as_json=")
    assert code == 0
    assert not any(c in out for c in "\x1b\x07\x9b")
    assert "\\x1b]0;owned\\x07" in out


def test_long_lines_are_not_wrapped_when_not_a_terminal(tmp_path, capsys) -> None:
    folder = tmp_path / ("a-rather-long-folder-name-" * 4)
    folder.mkdir()
    data = b"First Name,Last Name,E-mail Address,Business Phone\nAnn,Ek,ann@x.example,\n"
    code, out, _ = run(folder, capsys, "csv", "contacts.csv", data, "as_json=")
    assert code == 0
    assert str(folder / "contacts.csv") in out.splitlines()[0]


def test_a_time_outside_the_supported_range_rejects_its_event_alone() -> None:
    far = "UID:far\r\nDTSTART;TZID=Pacific/Pago_Pago:99991231T230000\r\nSUMMARY:Far"
    later = "UID:later\r\nDTSTART:25000101T090000Z\r\nSUMMARY:Later"
    items = parse_ics(calendar(far, later, event("near")))
    assert [i.data.title for i in parsed(items)] == ["Event near"]
    rejected = problems(items, "rejected")
    assert ["'far'" in rejected[0].reason, "'later'" in rejected[1].reason] == [True, True]
    assert "out of range" in rejected[0].reason
    assert "outside the supported range 1900-01-01 to 2200-01-01" in rejected[1].reason


def springboard_import(tmp_path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "import", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={"SPRINGBOARD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def test_several_files_in_one_command_each_reported_and_the_worst_exit_code(tmp_path) -> None:
    """``springboard import vcard *.vcf``: the real exports of several producers in one
    command, one missing file among them. Each file gets its own summary, the missing one a
    line of its own, and the exit code is the worst (2: one file could not be read)."""
    cards = [str(path) for path in real_files("ez-vcard", ".vcf")[:3]]
    missing = str(tmp_path / "gone.vcf")
    options = ("--owner", "o1", "--dry-run", "--json")
    out = springboard_import(tmp_path, "vcard", cards[0], missing, *cards[1:], *options)
    summaries = [json.loads(line) for line in out.stdout.splitlines()]
    assert [s["source"] for s in summaries] == cards
    assert all(s["counts"]["contacts"] >= 1 for s in summaries)
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith(f"cannot import {missing}")
    assert out.returncode == 2
    only_good = springboard_import(tmp_path, "vcard", *cards, *options)
    assert only_good.returncode == 0, only_good.stderr
    assert len(only_good.stdout.splitlines()) == 3


def test_watch_takes_one_feed_url_only(tmp_path) -> None:
    feeds = ("https://a.example/a.ics", "https://b.example/b.ics")
    out = springboard_import(tmp_path, "ics", *feeds, "--owner", "o1", "--watch", "60")
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "--watch polls one feed URL; give a single https:// or webcal:// source"
    )
