from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from services.ingest import canonical, normalise
from services.ingest.models import TABLES, IngestPerson
from services.ingest.store import IngestWork
from shared import database
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    GoalsSet,
    MeetingRecorded,
)
from shared.messages.network import InteractionRecorded, PersonChanged, PersonErased

AT = datetime(2026, 3, 12, 9, tzinfo=UTC)


@pytest.fixture
def engine():
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, TABLES)
    return engine


def apply(engine, owner: str, data, source: str = "test") -> list:
    with database.transaction(engine, IngestWork) as session:
        return canonical.apply(session, owner_id=owner, source=source, data=data)


def meeting(*emails: str, organizer: str | None = None, uid: str = "m1") -> MeetingRecorded:
    return MeetingRecorded(
        external_id=uid,
        starts_at=AT,
        organizer_email=organizer,
        attendees=[Attendee(email=e) for e in emails],
    )


def test_a_contact_met_in_a_meeting_is_one_person_across_sources(engine) -> None:
    [contact] = apply(
        engine,
        "o1",
        ContactUpserted(
            external_id="hubspot-1",
            full_name="Anna Berg",
            emails=["Anna.Berg@Nordbank.example"],
            company="Nordbank AB (publ)",
            title="Ekonomichef",
        ),
    )
    changes = apply(
        engine,
        "o1",
        meeting("anna.berg@nordbank.example", "me@example.com", organizer="me@example.com"),
    )
    people = [c for c in changes if isinstance(c, PersonChanged)]
    anna = next(p for p in people if p.full_name == "Anna Berg")
    assert anna.person_id == contact.person_id
    assert (anna.company, anna.function, anna.seniority) == ("Nordbank", "CFO", "executive")
    [interaction] = [c for c in changes if isinstance(c, InteractionRecorded)]
    assert set(interaction.person_ids) == {p.person_id for p in people}


def test_the_owner_is_recognised_in_calendars_once_their_goals_arrive(engine) -> None:
    changes = apply(
        engine, "o1", meeting("me@example.com", "x@y.example", organizer="me@example.com")
    )
    me_before = next(c for c in changes if isinstance(c, PersonChanged) and c.full_name == "Me")
    assert not me_before.is_self
    goals = apply(engine, "o1", GoalsSet(full_name="Maria L", emails=["me@example.com"]))
    me_after = next(c for c in goals if isinstance(c, PersonChanged))
    assert me_after.person_id == me_before.person_id
    assert me_after.is_self


def test_replaying_an_input_yields_the_same_changes_and_no_new_rows(engine) -> None:
    data = meeting("a@x.example", "b@x.example", organizer="a@x.example")
    first = apply(engine, "o1", data)
    second = apply(engine, "o1", data)
    assert first == second
    with database.transaction(engine, IngestWork) as session:
        assert len(session.exec(select(IngestPerson)).all()) == 2


def test_the_same_email_under_two_owners_is_two_different_people(engine) -> None:
    one = apply(
        engine, "o1", ContactUpserted(external_id="c", full_name="Anna", emails=["a@x.example"])
    )
    two = apply(
        engine, "o2", ContactUpserted(external_id="c", full_name="Anna", emails=["a@x.example"])
    )
    assert one[0].person_id != two[0].person_id


def test_people_seen_only_on_attendee_lists_are_not_contacts(engine) -> None:
    changes = apply(
        engine,
        "o1",
        AttendanceRecorded(
            event_external_id="e", email="new@x.example", full_name="New Person", title="CFO"
        ),
    )
    person = changes[0]
    assert not person.is_contact
    assert person.function == "CFO"
    met = apply(engine, "o1", meeting("new@x.example", uid="m2"))
    assert next(c for c in met if isinstance(c, PersonChanged)).is_contact


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("VD", ("CEO", "executive")),
        ("Ekonomichef", ("CFO", "executive")),
        ("IT-chef", ("CIO", "executive")),
        ("Marknadschef", ("CMO", "executive")),
        ("Försäljningschef", ("Head of Sales", "director")),
        ("Chief Financial Officer", ("CFO", "executive")),
        ("Key Account Manager", ("Sales", "manager")),
        ("Gardener", (None, None)),
    ],
)
def test_titles_map_to_function_and_seniority(title: str, expected: tuple) -> None:
    assert normalise.title_function(title) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Nordbank AB (publ)", "Nordbank"),
        ("Acme, Inc.", "Acme"),
        ("Widgets Ltd", "Widgets"),
        ("Bauer GmbH", "Bauer"),
        ("  ", None),
    ],
)
def test_company_names_lose_their_legal_suffix(raw: str, clean: str | None) -> None:
    assert normalise.company(raw) == clean


def apply_batch(engine, owner: str, batch: list, *, looked_up: bool) -> list:
    """A batch in one transaction, as ingest applies it, with or without the look-up."""
    with database.transaction(engine, IngestWork) as session:
        if looked_up:
            canonical.look_up_people(session, [(owner, "test", data) for data in batch])
        return [
            canonical.apply(session, owner_id=owner, source="test", data=data) for data in batch
        ]


def test_looking_up_a_batch_at_once_changes_nothing_but_the_queries(engine) -> None:
    before = [
        ContactUpserted(external_id="c1", full_name="Anna Berg", emails=["anna@x.example"]),
        ContactUpserted(external_id="c2", full_name="A. Berg", phones=["+46701234567"]),
        meeting("anna@x.example", "bo@y.example", uid="m0"),
        ContactUpserted(external_id="c4", full_name="Karin Ek", company="Volvo", emails=["k@v.se"]),
    ]
    at_event = [
        # a new address with the same name at a known person's company: the same person
        AttendanceRecorded(
            event_external_id="e1",
            email="k.ek@home.example",
            full_name="Karin Ek",
            company="Volvo AB",
            status="registered",
        ),
        # two new addresses, one name and company: the second finds the first of the batch
        AttendanceRecorded(
            event_external_id="e1",
            email="sven@x.example",
            full_name="Sven Olsson",
            company="Scania",
            status="registered",
        ),
        AttendanceRecorded(
            event_external_id="e1",
            email="s.olsson@y.example",
            full_name="Sven Olsson",
            company="Scania",
            status="registered",
        ),
    ]
    batch = [
        *at_event,
        meeting("anna@x.example", "new@z.example", uid="m1"),
        meeting("new@z.example", "bo@y.example", uid="m2"),
        meeting("anna@x.example", "new@z.example", uid="m3"),
        AttendanceRecorded(event_external_id="e1", email="new@z.example", status="registered"),
        # names both of Anna's records: they are merged, the look-up must not hide it
        ContactUpserted(
            external_id="c3",
            full_name="Anna Berg",
            emails=["anna@x.example"],
            phones=["+46701234567"],
        ),
    ]
    other = database.make_engine("sqlite://")
    database.create_tables(other, TABLES)
    queries: dict[bool, list[str]] = {}
    results = {}
    for looked_up, target in ((False, engine), (True, other)):
        known = apply_batch(target, "o1", before, looked_up=False)
        seen: list[str] = []
        event.listen(target, "before_cursor_execute", lambda *a, seen=seen: seen.append(a[2]))
        results[looked_up] = apply_batch(target, "o1", batch, looked_up=looked_up)
        queries[looked_up] = [q for q in seen if "FROM ingest_person_key " in q]
    assert results[True] == results[False]
    karin, sven, olsson = (r[0] for r in results[True][:3])
    assert karin.person_id == known[-1][-1].person_id  # the contact Karin Ek at Volvo
    assert sven.person_id == olsson.person_id
    assert any(
        isinstance(c, PersonChanged) and c.full_name == "Anna Berg" for c in results[True][-1]
    )
    assert any(isinstance(c, PersonErased) for c in results[True][-1])  # merged away
    # Input by input: one query per new address (three at the event, anna, new, bo) and one
    # for the contact. Looked up: one for the batch. Both: the merge moving the keys.
    assert (len(queries[False]), len(queries[True])) == (7 + 1, 1 + 1)


def test_a_contact_removed_from_the_address_book_is_no_longer_one_and_keeps_their_history(
    engine,
) -> None:
    card = ContactUpserted(external_id="uid-1", full_name="Anna Berg", emails=["anna@x.example"])
    [anna] = apply(engine, "o1", card, source="import:vcard")
    assert anna.is_contact
    met = apply(engine, "o1", meeting("anna@x.example", "me@example.com"))
    [interaction] = [c for c in met if isinstance(c, InteractionRecorded)]
    gone = card.model_copy(update={"removed": True})
    [removed] = apply(engine, "o1", gone, source="import:vcard")
    assert removed.person_id == anna.person_id
    assert not removed.is_contact
    with database.transaction(engine, IngestWork) as session:
        person = session.get(IngestPerson, anna.person_id)
        assert person is not None
        assert not person.is_contact
    assert anna.person_id in interaction.person_ids  # the meeting is still theirs
    assert apply(engine, "o1", gone, source="import:vcard") == []  # nothing more to do
    assert apply(engine, "o2", gone, source="import:vcard") == []  # no one had it
