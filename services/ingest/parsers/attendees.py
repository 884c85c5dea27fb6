"""Event attendee lists as event platforms export them (Eventbrite, Meetup, ticketing tools)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from services.ingest.parsers.common import (
    Item,
    Parsed,
    Problem,
    clean_email,
    header_cells,
    numbered_lines,
    sniff_dialect,
)
from services.ingest.parsers.csv_formats import records
from shared import topics
from shared.messages.inputs import AttendanceRecorded, AttendanceStatus

COLUMNS = {
    "email": ("email", "e-mail", "email address", "e-post", "attendee email"),
    "name": ("name", "full name", "attendee name", "namn"),
    "first_name": ("first name", "förnamn"),
    "last_name": ("last name", "surname", "efternamn"),
    "company": ("company", "organization", "organisation", "företag"),
    "title": ("job title", "title", "titel"),
    "status": ("attendee status", "status", "rsvp", "rsvp status", "order type"),
    "checked_in": ("checked in", "check-in", "attended"),
    "event": ("event id", "event name", "event", "evenemang"),
}
ATTENDED = {"checked in", "attended", "yes", "true", "1", "närvarande"}
CANCELLED = {"cancelled", "canceled", "refunded", "not attending", "no", "avbokad"}


def parse(chunks: Iterable[bytes], *, event_id: str | None = None) -> Iterator[Item]:
    """Attendance of one event (``event_id``) or of the events named in an event column."""
    lines = numbered_lines(chunks)
    first = next(lines, None)
    if first is None:
        yield Problem(1, "empty file")
        return
    header_line, header_text = first
    dialect = sniff_dialect(header_text)
    cells = header_cells(header_text, dialect)
    if cells is None:
        yield Problem(header_line, "the first line is not a CSV header")
        return
    header = [h.strip().lower() for h in cells]
    col = {
        field: next((header.index(n) for n in names if n in header), None)
        for field, names in COLUMNS.items()
    }
    if col["email"] is None:
        yield Problem(header_line, "no e-mail column (Email, E-mail, Email Address…)")
        return
    if event_id is None and col["event"] is None:
        yield Problem(header_line, "no event given: pass --event or include an Event ID column")
        return
    for line, row in records(lines, dialect, header_line):
        if isinstance(row, Problem):
            yield row
            return

        def get(field: str, row: list[str] = row) -> str:
            i = col[field]
            return row[i].strip() if i is not None and i < len(row) else ""

        email = clean_email(get("email"))
        if email is None:
            yield Problem(line, f"no valid e-mail ({get('email')!r})")
            continue
        event = event_id or get("event")
        if not event:
            yield Problem(line, "row names no event")
            continue
        status = (
            AttendanceStatus.CANCELLED
            if get("status").lower() in CANCELLED
            else AttendanceStatus.ATTENDED
            if get("checked_in").lower() in ATTENDED or get("status").lower() in ATTENDED
            else AttendanceStatus.REGISTERED
        )
        name = get("name") or " ".join(p for p in (get("first_name"), get("last_name")) if p)
        yield Parsed(
            topics.ATTENDANCE,
            AttendanceRecorded(
                event_external_id=event[:512],
                email=email,
                full_name=name[:200] or None,
                company=get("company")[:200] or None,
                title=get("title")[:200] or None,
                status=status,
            ),
            line,
        )
