"""Identity resolution within one owner: one person from many sources, merges undoable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from services.ingest import canonical, merges
from services.ingest.identity import NAMESPACE, e164, stable_id
from services.ingest.models import TABLES, IngestMerge, IngestPerson
from services.ingest.store import IngestWork
from shared import database
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    GoalsSet,
    MeetingRecorded,
    UndoMerge,
)
from shared.messages.network import AttendanceChanged, PersonChanged, PersonErased


@pytest.fixture
def engine():
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, TABLES)
    with database.transaction(engine, IngestWork) as session:
        canonical.apply(
            session,
            owner_id="o1",
            source="app",
            data=GoalsSet(full_name="Maria", emails=["me@example.com"], country="SE"),
        )
    return engine


def apply(engine, data, owner: str = "o1", source: str = "test") -> list:
    with database.transaction(engine, IngestWork) as session:
        return canonical.apply(session, owner_id=owner, source=source, data=data)


def people(engine, owner: str = "o1") -> list[IngestPerson]:
    with database.transaction(engine, IngestWork) as session:
        return [
            p
            for p in session.exec(select(IngestPerson).where(IngestPerson.owner_id == owner))
            if not p.is_self
        ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("070-123 45 67", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("BusinessPhone", None),
    ],
)
def test_phone_numbers_become_e164_with_the_owners_country(raw: str, expected: str | None) -> None:
    assert e164(raw, "SE") == expected


def test_a_crm_record_and_a_vcard_with_the_same_phone_are_one_person(engine) -> None:
    apply(
        engine,
        ContactUpserted(external_id="h1", full_name="Anna Berg", phones=["070-123 45 67"]),
        source="crm:hubspot",
    )
    apply(
        engine,
        ContactUpserted(
            external_id="v1",
            full_name="Anna Berg",
            phones=["+46 70 123 45 67"],
            emails=["anna@nordbank.example"],
        ),
        source="import:vcard",
    )
    [anna] = people(engine)
    assert anna.full_name == "Anna Berg"


def test_a_linkedin_connection_without_email_joins_the_person_by_name_and_company(engine) -> None:
    apply(
        engine,
        ContactUpserted(
            external_id="h1",
            full_name="Anna Berg",
            company="Nordbank AB",
            emails=["anna@nordbank.example"],
        ),
    )
    apply(
        engine,
        ContactUpserted(
            external_id="https://www.linkedin.com/in/annaberg",
            full_name="Anna  Berg",
            company="Nordbank",
            title="CFO",
        ),
        source="import:linkedin",
    )
    [anna] = people(engine)
    assert anna.title == "CFO"
    with database.transaction(engine, IngestWork) as session:
        [link] = session.exec(select(IngestMerge)).all()
    assert "name" in link.reason
    assert link.kept_id == anna.person_id


def test_the_same_name_at_another_company_stays_a_different_person(engine) -> None:
    apply(engine, ContactUpserted(external_id="a", full_name="Anna Berg", company="Nordbank"))
    apply(engine, ContactUpserted(external_id="b", full_name="Anna Berg", company="Klarmynt"))
    assert len(people(engine)) == 2


def test_a_record_naming_two_known_people_merges_them_and_the_merge_can_be_undone(engine) -> None:
    first = apply(
        engine,
        ContactUpserted(external_id="a", full_name="Anna Berg", emails=["anna@work.example"]),
    )[0]
    second = apply(
        engine, ContactUpserted(external_id="b", full_name="Anna B", emails=["anna@home.example"])
    )[0]
    apply(engine, AttendanceRecorded(event_external_id="ev", email="anna@home.example"))
    apply(
        engine,
        MeetingRecorded(
            external_id="m1",
            starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
            attendees=[Attendee(email="anna@home.example"), Attendee(email="me@example.com")],
        ),
    )
    changes = apply(
        engine,
        ContactUpserted(
            external_id="c",
            full_name="Anna Berg",
            emails=["anna@work.example", "anna@home.example"],
        ),
    )
    assert PersonErased(person_id=second.person_id) in changes
    moved = [c for c in changes if isinstance(c, AttendanceChanged)]
    assert moved
    assert moved[0].person_id == first.person_id
    assert len(people(engine)) == 1
    with database.transaction(engine, IngestWork) as session:
        [merge] = session.exec(select(IngestMerge)).all()
        assert "anna@home.example" in merge.reason
    undone = apply(engine, UndoMerge(merge_id=merge.merge_id))
    assert {p.person_id for p in undone if isinstance(p, PersonChanged)} == {
        first.person_id,
        second.person_id,
    }
    assert len(people(engine)) == 2
    assert apply(engine, UndoMerge(merge_id=merge.merge_id)) == []  # undoing twice does nothing


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Anna Berg", "Anna  Berg"),
        ("Anna Berg", "Berg, Anna"),
        ("Göran Ek", "goran ek"),
        ("Anna M. Berg", "Anna Berg"),
        ("Anna Maria Berg", "Anna Berg"),
        ("Anna-Karin Berg", "Anna Karin Berg"),
    ],
)
def test_names_that_agree_word_for_word_are_one_person(one: str, other: str) -> None:
    assert merges.names_agree(one, other)
    assert merges.names_agree(other, one)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # pairs a string ratio of 92% or more joined in the simulator's networks
        ("Anna Johansson", "Anna Jansson"),
        ("Mikael Jansson", "Mikael Jonsson"),
        ("Amira Johansson", "Amira Hansson"),
        ("Ola Öberg", "Ola Berg"),
        ("Sofia Berg", "Sofia Åberg"),
        ("Anna Hansson", "Hanna Hansson"),
        # too little to go on, or another middle name
        ("Anna", "Anna Berg"),
        ("A. Berg", "Anna Berg"),
        ("Karin A. Ek", "Karin B. Ek"),
        ("Anna Maria Sofia Berg", "Anna Berg"),
    ],
)
def test_names_a_letter_or_a_word_apart_are_different_people(one: str, other: str) -> None:
    assert not merges.names_agree(one, other)
    assert not merges.names_agree(other, one)


def test_a_close_but_different_name_at_the_same_company_stays_its_own_person(engine) -> None:
    apply(
        engine,
        ContactUpserted(
            external_id="c1",
            full_name="Anna Johansson",
            company="Nordbank",
            emails=["aj@n.example"],
        ),
    )
    apply(
        engine,
        AttendanceRecorded(
            event_external_id="e1",
            email="anna.jansson@home.example",
            full_name="Anna Jansson",
            company="Nordbank AB",
            status="registered",
        ),
    )
    assert sorted(p.full_name for p in people(engine)) == ["Anna Jansson", "Anna Johansson"]
    with database.transaction(engine, IngestWork) as session:
        assert session.exec(select(IngestMerge)).all() == []


def test_identities_never_cross_owners(engine) -> None:
    apply(
        engine,
        ContactUpserted(
            external_id="a",
            full_name="Anna Berg",
            company="Nordbank",
            emails=["anna@nordbank.example"],
        ),
        owner="o1",
    )
    apply(
        engine,
        ContactUpserted(
            external_id="a",
            full_name="Anna Berg",
            company="Nordbank",
            emails=["anna@nordbank.example"],
        ),
        owner="o2",
    )
    assert len(people(engine, "o1")) == 1
    assert len(people(engine, "o2")) == 1
    with database.transaction(engine, IngestWork) as session:
        assert session.exec(select(IngestMerge)).all() == []
        assert (
            merges.same_person_by_name(
                session, owner_id="o3", full_name="Anna Berg", company="Nordbank"
            )
            is None
        )


def meeting(uid: str, name: str, email: str = "anna@x.example") -> MeetingRecorded:
    return MeetingRecorded(
        external_id=uid,
        starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        attendees=[Attendee(email="me@example.com"), Attendee(email=email, name=name)],
    )


def test_within_one_batch_an_attendee_seen_again_still_takes_what_changed_in_between(
    engine,
) -> None:
    """A batch resolves an attendee named again with the same facts only once; what happened
    to the person in between (a CRM rename, a new address of the owner's) still counts."""
    with database.transaction(engine, IngestWork) as session:
        for data in (
            meeting("m1", "Anna"),
            ContactUpserted(external_id="a", full_name="Anna Berg", emails=["anna@x.example"]),
            meeting("m2", "Anna"),  # the calendar's name wins again, as input by input
            meeting("m3", "Bo", email="bo@x.example"),
            GoalsSet(full_name="Maria", emails=["me@example.com", "bo@x.example"], country="SE"),
            meeting("m4", "Bo", email="bo@x.example"),  # now the owner's own address
        ):
            canonical.apply(session, owner_id="o1", source="test", data=data)
    (anna,) = people(engine)
    assert anna.full_name == "Anna"
    with database.transaction(engine, IngestWork) as session:
        bo = session.exec(select(IngestPerson).where(IngestPerson.full_name == "Bo")).one()
    assert bo.is_self


@given(st.text(min_size=1), st.lists(st.text(), max_size=4))
def test_stable_ids_are_the_first_half_of_uuid5_as_ever_stored(
    owner: str, parts: list[str]
) -> None:
    expected = uuid.uuid5(NAMESPACE, "|".join((owner, *parts))).hex[:16]
    assert stable_id("p", owner, *parts) == f"p-{expected}"


def test_erasing_a_merged_person_leaves_no_merge_to_undo_them_from(engine) -> None:
    from shared.messages.inputs import ErasePerson

    apply(
        engine,
        ContactUpserted(external_id="a", full_name="Anna Berg", emails=["anna@work.example"]),
    )
    apply(
        engine, ContactUpserted(external_id="b", full_name="Anna B", emails=["anna@home.example"])
    )
    apply(
        engine,
        ContactUpserted(
            external_id="c",
            full_name="Anna Berg",
            emails=["anna@work.example", "anna@home.example"],
        ),
    )
    with database.transaction(engine, IngestWork) as session:
        [merge] = session.exec(select(IngestMerge)).all()
    erased = apply(engine, ErasePerson(email="anna@home.example"))
    assert [type(c).__name__ for c in erased] == ["PersonErased"]
    with database.transaction(engine, IngestWork) as session:
        assert session.exec(select(IngestMerge)).all() == []  # names and addresses gone too
    assert apply(engine, UndoMerge(merge_id=merge.merge_id)) == []  # nothing to bring back
    assert people(engine) == []


def test_a_person_known_only_by_phone_or_by_name_can_be_erased(engine) -> None:
    from shared.messages.inputs import ErasePerson

    apply(engine, ContactUpserted(external_id="p", full_name="Bo Lind", phones=["070-123 45 67"]))
    apply(
        engine,
        MeetingRecorded(
            external_id="m",
            starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
            attendees=[Attendee(name="Ana Silva")],
        ),
    )
    assert sorted(p.full_name for p in people(engine)) == ["Ana Silva", "Bo Lind"]
    assert apply(engine, ErasePerson(phone="+46 70 123 45 67"))
    assert apply(engine, ErasePerson(name="ana silva"))
    assert people(engine) == []
