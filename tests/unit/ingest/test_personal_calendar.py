"""A personal calendar read as its owner would read it: who the owner is, who is a person,
and what is an event to attend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from services.ingest import canonical
from services.ingest.models import TABLES, IngestPerson
from services.ingest.normalise import not_a_person
from services.ingest.parsers import ics
from services.ingest.parsers.common import Parsed, Problem
from services.ingest.store import IngestWork
from shared import database, topics
from shared.messages.inputs import Attendee, MeetingRecorded
from tests.real_files import real_files

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CALENDARS = real_files("node-ical", ".ics")


def calendar(*events: str, head: str = "") -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        f"{head}{body}END:VCALENDAR\r\n"
    ).encode()


def entry(uid: str, *lines: str, day: int = 3) -> str:
    return "\r\n".join((f"UID:{uid}", f"DTSTART:202612{day:02d}T090000Z", f"SUMMARY:{uid}", *lines))


ME = "ATTENDEE;CN=Maria;PARTSTAT=ACCEPTED:mailto:maria@example.com"


def parse(data: bytes, **kwargs) -> list:
    return list(ics.parse([data], now=NOW, **kwargs))


def meetings(items: list) -> list[MeetingRecorded]:
    return [i.data for i in items if isinstance(i, Parsed) and i.topic == topics.MEETINGS]


def events(items: list) -> list:
    return [i.data for i in items if isinstance(i, Parsed) and i.topic == topics.EVENTS]


def skipped(items: list) -> list[Problem]:
    return [i for i in items if isinstance(i, Problem) and i.severity == "skipped"]


def attendee_emails(items: list) -> set[str | None]:
    return {a.email for m in meetings(items) for a in m.attendees}


@pytest.mark.parametrize(
    ("head", "kwargs"),
    [
        ("", {"me": ["Maria@Example.com"]}),
        ("X-WR-CALNAME:maria@example.com\r\n", {}),
        ("", {}),  # found as the one address in nearly every meeting
    ],
    ids=["--me", "calendar-name", "in-every-meeting"],
)
def test_the_owner_is_never_a_person_of_their_own_meetings(head, kwargs) -> None:
    data = calendar(
        *[
            entry(f"m{i}", ME, f"ATTENDEE:mailto:person{i % 3}@x.example", day=i + 1)
            for i in range(6)
        ],
        entry("org", "ORGANIZER:mailto:maria@example.com", "ATTENDEE:mailto:bo@x.example"),
        head=head,
    )
    items = parse(data, **kwargs)
    assert "maria@example.com" not in attendee_emails(items)
    assert all(m.organizer_email is None for m in meetings(items))
    assert not [p for p in items if isinstance(p, Problem) and p.kind == "owner not recognised"]


def test_an_owner_who_cannot_be_recognised_is_told_once_to_give_me() -> None:
    data = calendar(
        entry("a", "ATTENDEE:mailto:ann@x.example"), entry("b", "ATTENDEE:mailto:bo@x.example")
    )
    items = parse(data)
    [warning] = [p for p in items if isinstance(p, Problem) and p.kind == "owner not recognised"]
    assert "--me" in warning.reason


def test_a_meeting_the_owner_declined_counts_as_declined() -> None:
    declined = "ATTENDEE;PARTSTAT=DECLINED:mailto:maria@example.com"
    items = parse(
        calendar(entry("d", declined, "ATTENDEE:mailto:ann@x.example")), me=["maria@example.com"]
    )
    [meeting] = meetings(items)
    assert meeting.owner_declined
    assert [a.email for a in meeting.attendees] == ["ann@x.example"]


def test_addresses_that_are_not_people_are_never_people() -> None:
    data = calendar(
        entry(
            "sync",
            ME,
            "ORGANIZER:mailto:unknownorganizer@calendar.google.com",
            "ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@x.example",
            "ATTENDEE;CUTYPE=RESOURCE:mailto:projector@x.example",
            "ATTENDEE;CUTYPE=GROUP:mailto:sales-team@x.example",
            "ATTENDEE:mailto:c_1882@resource.calendar.google.com",
            "ATTENDEE:mailto:noreply@zoom.us",
            "ATTENDEE:mailto:dev-list@lists.x.org",
            "ATTENDEE;CN=Ann Ek:mailto:ann@x.example",
        )
    )
    items = parse(data, me=["maria@example.com"])
    [meeting] = meetings(items)
    assert [a.email for a in meeting.attendees] == ["ann@x.example"]
    assert meeting.organizer_email is None
    assert len([p for p in skipped(items) if p.kind == "not a person"]) == 6


def test_a_meeting_of_only_the_owner_and_a_room_is_the_owners_own_time() -> None:
    data = calendar(entry("focus", ME, "ATTENDEE;CUTYPE=ROOM:mailto:room4@x.example"))
    items = parse(data, me=["maria@example.com"])
    assert not meetings(items)
    assert not events(items)


def test_entries_with_no_one_else_are_the_owners_time_not_events() -> None:
    data = calendar(
        entry("Gym"),
        entry("Dentist"),
        entry("Focus time", ME),
        head="X-WR-CALNAME:maria@example.com\r\n",
    )
    items = parse(data)
    assert not events(items)
    assert not meetings(items)
    assert [p.kind for p in skipped(items)] == ["own entry"] * 3


@pytest.mark.parametrize("path", CALENDARS, ids=lambda p: p.name)
def test_a_real_personal_calendar_alone_yields_no_event(path) -> None:
    with path.open("rb") as handle:
        items = list(ics.parse(handle, now=datetime(2022, 1, 1, tzinfo=UTC)))
    producer = path.read_bytes().lower()
    if b"meetup" in producer.split(b"prodid", 1)[-1][:200]:
        assert events(items)  # a Meetup export is an event feed
    else:
        assert not events(items)


def test_an_event_feed_takes_one_event_per_title_and_day_and_skips_cancelled_ones() -> None:
    data = calendar(
        entry("Fintech Breakfast", day=3),
        entry("fintech  breakfast", "UID:other", day=3).replace("UID:fintech  breakfast\r\n", ""),
        entry("Fintech Breakfast", day=10).replace("UID:Fintech Breakfast", "UID:next-week"),
        entry("Retail Forum", "STATUS:CANCELLED", day=5),
    )
    items = parse(data, events=True)
    assert [(e.title, e.starts_at.day) for e in events(items)] == [
        ("Fintech Breakfast", 3),
        ("Fintech Breakfast", 10),
    ]
    assert sorted(p.kind for p in skipped(items)) == ["cancelled event", "repeat"]


def test_a_meetup_export_is_an_event_feed_by_its_producer() -> None:
    data = calendar(entry("Python Stockholm")).replace(
        b"Google Inc//Google Calendar", b"Meetup//RemoteApi"
    )
    assert [e.title for e in events(parse(data))] == ["Python Stockholm"]


@pytest.mark.parametrize(
    ("address", "person"),
    [
        ("anna.berg@nordbank.example", True),
        ("marie.office@x.example", True),
        ("unknownorganizer@calendar.google.com", False),
        ("c_18@resource.calendar.google.com", False),
        ("family123@group.calendar.google.com", False),
        ("no-reply@accounts.google.com", False),
        ("notifications@github.com", False),
        ("info@acme.example", False),
        ("python-list@python.org", False),
    ],
)
def test_which_addresses_are_people(address, person) -> None:
    assert (not_a_person(address) is None) is person


def test_ingest_makes_no_person_of_a_system_address_from_any_source() -> None:
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, TABLES)
    meeting = MeetingRecorded(
        external_id="crm-1",
        starts_at=NOW,
        organizer_email="noreply@crm.example",
        attendees=[
            Attendee(email="ann@x.example", name="Ann"),
            Attendee(email="unknownorganizer@calendar.google.com"),
        ],
    )
    with database.transaction(engine, IngestWork) as session:
        canonical.apply(session, owner_id="o1", source="webhook", data=meeting)
    with database.transaction(engine, IngestWork) as session:
        assert [p.full_name for p in session.exec(select(IngestPerson))] == ["Ann"]
