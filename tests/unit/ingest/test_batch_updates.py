"""What ingest publishes for a batch: each person once, in their latest state, in one
message per owner."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from services.ingest.publishing import once_per_person, packed
from shared import topics
from shared.broker import Decoded
from shared.messages import ContactUpserted, wrap
from shared.messages.network import (
    CHANGES_PER_MESSAGE,
    InteractionRecorded,
    PersonChanged,
    PersonErased,
)

AT = datetime(2026, 3, 12, 9, tzinfo=UTC)


def person(pid: str, title: str | None = None) -> PersonChanged:
    return PersonChanged(person_id=pid, full_name=pid.title(), is_contact=True, title=title)


def met(iid: str, *pids: str) -> InteractionRecorded:
    return InteractionRecorded(interaction_id=iid, occurred_at=AT, person_ids=list(pids))


def test_a_person_named_by_many_inputs_is_published_once_in_their_latest_state() -> None:
    changes = [
        ("o1", person("me")),
        ("o1", person("anna")),
        ("o1", met("i1", "me", "anna")),
        ("o1", person("me")),
        ("o1", person("anna", title="CFO")),
        ("o1", met("i2", "me", "anna")),
        ("o2", person("anna")),  # another owner's Anna is another person
    ]
    assert once_per_person(changes) == [
        (0, person("me")),
        (1, person("anna", title="CFO")),  # where Anna first appeared, before what names her
        (2, met("i1", "me", "anna")),
        (5, met("i2", "me", "anna")),
        (6, person("anna")),
    ]


def test_an_owner_with_an_erasure_in_the_batch_keeps_every_change_in_order() -> None:
    erasing = [
        ("o1", person("anna")),
        ("o1", PersonErased(person_id="anna")),
        ("o1", person("anna")),
    ]
    other = [("o2", person("bo")), ("o2", person("bo"))]
    assert once_per_person(erasing + other) == [
        (0, erasing[0][1]),
        (1, erasing[1][1]),
        (2, erasing[2][1]),
        (3, other[0][1]),
    ]


def decoded(owner: str, input_id: str, at_ms: int, correlation: str | None = None) -> Decoded:
    envelope = wrap(
        ContactUpserted(external_id=input_id, full_name="Anna Berg"),
        owner_id=owner,
        source="crm:test",
        correlation_id=correlation,
        message_id=input_id,
    )
    record = ConsumerRecord(topics.CONTACTS, 0, 0, at_ms, 0, owner.encode(), b"", None, 0, 0, [])
    return Decoded(topics.CONTACTS, record, envelope)


def test_a_batch_goes_out_as_one_message_per_owner_naming_its_earliest_input() -> None:
    late, early, other = (
        decoded("o1", "in-1", 2_000),
        decoded("o1", "in-2", 1_000, "c-2"),
        (decoded("o2", "in-3", 500)),
    )
    made = [
        (late, 0, person("anna")),
        (other, 0, person("bo")),
        (early, 0, person("carl")),
        (early, 1, met("i1", "anna", "carl")),
    ]
    o1, o2 = packed(made)
    assert o1.owner_id == "o1"
    assert o1.data.changes == [person("anna"), person("carl"), met("i1", "anna", "carl")]
    assert o1.time == datetime.fromtimestamp(1, UTC)  # in-2's, which reached Kafka first
    assert o1.correlation_id == "c-2"
    assert o1.id == "in-1/0"  # from its first change: a replayed batch gets the same ids
    assert (o2.owner_id, o2.data.changes, o2.correlation_id) == ("o2", [person("bo")], "in-3")


def test_an_erasure_goes_alone_between_what_came_before_and_after_it() -> None:
    contact, erase = decoded("o1", "in-1", 1_000), decoded("o1", "erase-1", 2_000)
    made = [
        (contact, 0, person("anna")),
        (erase, 0, PersonErased(person_id="anna", requested=True)),
        (contact, 1, person("bo")),
    ]
    before, erasure, after = packed(made)
    assert before.data.changes == [person("anna")]
    assert erasure.data.changes == [PersonErased(person_id="anna", requested=True)]
    assert erasure.correlation_id == "erase-1"  # the request the services confirm
    assert after.data.changes == [person("bo")]


def test_many_changes_of_one_owner_are_spread_over_messages_in_order() -> None:
    item = decoded("o1", "x" * 128, 1_000)  # the longest id an input may have
    made = [(item, i, person(f"p{i}")) for i in range(CHANGES_PER_MESSAGE * 2 + 1)]
    messages = packed(made)
    assert [len(m.data.changes) for m in messages] == [CHANGES_PER_MESSAGE] * 2 + [1]
    assert [c for m in messages for c in m.data.changes] == [c for _, _, c in made]
    assert len({m.id for m in messages}) == 3
    assert all(len(m.id) <= 128 for m in messages)
