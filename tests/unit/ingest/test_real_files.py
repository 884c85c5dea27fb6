"""Every real producer's file in shared/real_contacts_calendars imports, as it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.parsers import ics, vcard
from services.ingest.parsers.common import Parsed, Problem
from shared import topics
from tests.real_files import real_files

VCARDS = real_files("ez-vcard", ".vcf")
CALENDARS = real_files("node-ical", ".ics")
WIDE = ics.Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def parse_calendar(path, *, events: bool = True):
    """As an event feed by default, so that every entry is read (a personal calendar skips
    the entries with no one else in them)."""
    with path.open("rb") as handle:
        return list(
            ics.parse(handle, now=datetime(2022, 1, 1, tzinfo=UTC), window=WIDE, events=events)
        )


@pytest.mark.parametrize("path", VCARDS, ids=lambda p: p.name)
def test_every_real_vcard_export_yields_its_contacts_and_rejects_none(path) -> None:
    with path.open("rb") as handle:
        items = list(vcard.parse(handle))
    contacts = [i for i in items if isinstance(i, Parsed)]
    cards = path.read_bytes().upper().count(b"BEGIN:VCARD")
    assert len(contacts) == cards
    assert not [i for i in items if isinstance(i, Problem) and i.severity == "rejected"]
    assert all(c.data.full_name.strip() for c in contacts)


def test_vcard_quoted_printable_and_charsets_are_decoded() -> None:
    android = next(p for p in VCARDS if p.name == "John_Doe_ANDROID.vcf")
    with android.open("rb") as handle:
        names = [i.data.full_name for i in vcard.parse(handle) if isinstance(i, Parsed)]
    assert "Ñ Ñ Ñ Ñ Ñ" in names


def test_outlook_and_lotus_notes_cards_keep_name_company_title_and_phones() -> None:
    for name in ("John_Doe_MS_OUTLOOK.vcf", "John_Doe_LOTUS_NOTES.vcf"):
        path = next(p for p in VCARDS if p.name == name)
        with path.open("rb") as handle:
            [contact] = [i.data for i in vcard.parse(handle) if isinstance(i, Parsed)]
        assert contact.company == "IBM"
        assert contact.title
        assert contact.phones
        assert contact.emails


@pytest.mark.parametrize("path", CALENDARS, ids=lambda p: p.name)
def test_every_real_calendar_imports_with_timezone_aware_times(path) -> None:
    items = parse_calendar(path)
    parsed = [i for i in items if isinstance(i, Parsed)]
    for item in parsed:
        assert item.data.starts_at.tzinfo is not None
        assert item.topic in (topics.MEETINGS, topics.EVENTS)
    rejected = [i for i in items if isinstance(i, Problem) and i.severity == "rejected"]
    # Only the fixture with a deliberately broken DTSTART, and Exchange 2010's series whose
    # DTSTART value sits inside the quoted TZID, have a rejected event.
    broken = {"multi-event-basic.ics", "ms_timezones.ics"}
    assert len(rejected) == (1 if path.name in broken else 0)


def test_a_broken_event_is_reported_with_the_line_it_starts_on() -> None:
    path = next(p for p in CALENDARS if p.name == "multi-event-basic.ics")
    [problem] = [i for i in parse_calendar(path) if isinstance(i, Problem)]
    lines = path.read_text().splitlines()
    assert lines[problem.line - 1] == "BEGIN:VEVENT"
    assert "DTSTART" in problem.reason


def test_exchange_windows_zone_names_resolve_to_real_offsets() -> None:
    path = next(p for p in CALENDARS if p.name == "ms_timezones.ics")
    items = [i for i in parse_calendar(path) if isinstance(i, Parsed)]
    offsets = {i.data.starts_at.utcoffset() for i in items}
    assert len(offsets) > 1  # W. Europe, Pacific, GMT… are not all collapsed to one zone


def test_attendees_make_a_meeting_and_their_answers_are_kept() -> None:
    path = next(p for p in CALENDARS if p.name == "tentative-apple-calendar.ics")
    meetings = [
        i.data for i in parse_calendar(path) if isinstance(i, Parsed) and i.topic == topics.MEETINGS
    ]
    assert {m.title for m in meetings} >= {"Tentative", "Confirmed"}
    tentative = next(m for m in meetings if m.title == "Tentative")
    assert tentative.attendees[0].response.value == "tentative"
    assert next(m for m in meetings if m.title == "Cancelled").cancelled


def test_recurrences_are_expanded_with_exceptions_and_bounded() -> None:
    path = next(p for p in CALENDARS if p.name == "biweekly-exdate-until.ics")
    items = parse_calendar(path)
    starts = [i.data.starts_at for i in items if isinstance(i, Parsed)]
    assert len(starts) == len(set(starts)) > 10
    assert any(isinstance(i, Problem) and "stopped after" in i.reason for i in items)


def test_google_all_day_and_floating_times_take_the_owners_zone() -> None:
    text = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20260310\r\nSUMMARY:All day\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260310T090000\r\nSUMMARY:Floating\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    items = list(ics.parse([text], now=datetime(2026, 3, 1, tzinfo=UTC), events=True))
    for item in items:
        assert item.data.starts_at.utcoffset().total_seconds() == 3600  # Stockholm in March
