"""Property-based fuzzing: no parser crashes, and nothing is silently lost."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.parsers import attendees, csv_formats, ics, vcard
from services.ingest.parsers.common import Parsed, Problem

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 28, tzinfo=UTC)

field_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@FUZZ
@given(st.binary(max_size=3000))
def test_no_parser_raises_on_arbitrary_bytes(data: bytes) -> None:
    for parse in (
        lambda c: vcard.parse(c),
        lambda c: ics.parse(c, now=NOW),
        lambda c: csv_formats.parse(c),
        lambda c: attendees.parse(c, event_id="e"),
    ):
        for item in parse(io.BytesIO(data)):
            assert isinstance(item, Parsed | Problem)


@FUZZ
@given(st.lists(st.tuples(field_text, field_text, st.booleans()), min_size=1, max_size=15))
def test_every_vcard_is_either_imported_or_reported(cards) -> None:
    text = ""
    for name, org, with_email in cards:
        safe = name.replace("\r", " ").replace("\n", " ")
        text += "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        text += f"FN:{safe}\r\nORG:{org.replace(chr(10), ' ').replace(chr(13), ' ')}\r\n"
        if with_email:
            text += "EMAIL:someone@example.org\r\n"
        text += "END:VCARD\r\n"
    items = list(vcard.parse(io.BytesIO(text.encode())))
    imported = [i for i in items if isinstance(i, Parsed)]
    rejected = [i for i in items if isinstance(i, Problem) and i.severity == "rejected"]
    assert len(imported) + len(rejected) == len(cards)


@FUZZ
@given(st.lists(st.tuples(field_text, field_text, field_text), min_size=1, max_size=20))
def test_every_csv_row_with_content_is_either_imported_or_reported(rows) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["First Name", "Last Name", "E-mail Address", "Business Phone", "Company"])
    for first, last, company in rows:
        writer.writerow([first, last, "", "", company])
    items = list(csv_formats.parse(io.BytesIO(buffer.getvalue().encode())))
    if any(isinstance(i, Problem) and "unreadable CSV" in i.reason for i in items):
        return  # the csv module refused the text (e.g. a NUL byte): reported, not lost
    with_content = sum(1 for first, last, company in rows if (first + last + company).strip())
    imported = sum(1 for i in items if isinstance(i, Parsed))
    reported = sum(1 for i in items if isinstance(i, Problem) and i.severity != "warning")
    assert imported + reported == with_content


@FUZZ
@given(
    st.integers(min_value=1, max_value=10**9), st.sampled_from(["SECONDLY", "MINUTELY", "DAILY"])
)
def test_a_recurrence_bomb_is_cut_off_and_reported(count: int, freq: str) -> None:
    text = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:bomb\r\n"
        f"DTSTART:20260101T000000Z\r\nRRULE:FREQ={freq};COUNT={count}\r\nSUMMARY:x\r\n"
        f"END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    items = list(ics.parse([text], now=NOW))
    parsed = [i for i in items if isinstance(i, Parsed)]
    assert len(parsed) <= ics.MAX_OCCURRENCES_PER_SERIES
    if len(parsed) < min(count, 365):
        assert any(isinstance(i, Problem) for i in items)
