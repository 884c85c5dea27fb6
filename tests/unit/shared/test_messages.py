from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared import topics
from shared.messages import TOPIC_PAYLOADS, encode, envelope_adapter, wrap
from shared.messages.envelope import Envelope
from shared.messages.inputs import ContactUpserted, EraseOwner, ErasePerson, MeetingRecorded
from shared.sample_network import generate


def test_every_sample_message_round_trips_through_json_unchanged() -> None:
    network = generate(now=datetime(2026, 11, 28, tzinfo=UTC))
    for topic, envelope in network.messages:
        again = envelope_adapter(topic).validate_json(encode(envelope))
        assert again == envelope


def test_every_topic_with_a_payload_has_a_validator() -> None:
    for topic in (
        *topics.INPUTS,
        topics.FEEDBACK,
        topics.NETWORK_UPDATES,
        topics.RECOMMENDATIONS,
        topics.SUGGESTIONS,
    ):
        assert topic in TOPIC_PAYLOADS
        envelope_adapter(topic)


def test_topic_names_carry_a_version_and_dead_letters_keep_it() -> None:
    assert all(re.search(r"\.v[1-9][0-9]*$", t) for t in topics.all_topics())
    assert topics.dead_letter(topics.CONTACTS) == "springboard.contacts.dead-letter.v1"
    assert (
        topics.dead_letter(topics.NETWORK_UPDATES) == "springboard.network-updates.dead-letter.v2"
    )
    assert len(set(topics.all_topics())) == len(topics.all_topics())


def test_an_envelope_whose_type_does_not_match_its_data_is_refused() -> None:
    good = wrap(ContactUpserted(external_id="x", full_name="Anna"), owner_id="o1", source="t")
    raw = good.model_dump(mode="json") | {"type": "springboard.meeting.recorded"}
    with pytest.raises(ValidationError, match="does not match"):
        envelope_adapter(topics.CONTACTS).validate_python(raw)


def test_naive_times_and_bad_owner_ids_are_refused() -> None:
    with pytest.raises(ValidationError):
        MeetingRecorded(external_id="m", starts_at=datetime(2026, 1, 1, 9))  # no time zone
    with pytest.raises(ValidationError):
        wrap(EraseOwner(), owner_id="../etc/passwd", source="t")


def test_erasure_topic_tells_person_and_owner_requests_apart() -> None:
    adapter = envelope_adapter(topics.ERASURE)
    person = adapter.validate_json(
        encode(wrap(ErasePerson(email="a@b.example"), owner_id="o", source="t"))
    )
    owner = adapter.validate_json(encode(wrap(EraseOwner(), owner_id="o", source="t")))
    assert isinstance(person.data, ErasePerson)
    assert isinstance(owner.data, EraseOwner)


def test_unknown_fields_are_refused_rather_than_silently_dropped() -> None:
    raw = wrap(EraseOwner(), owner_id="o", source="t").model_dump(mode="json")
    raw["data"]["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        envelope_adapter(topics.ERASURE).validate_python(raw)


def test_envelope_schema_documents_every_field() -> None:
    schema = Envelope[ContactUpserted].model_json_schema()
    envelope_props = schema["properties"]
    assert all("description" in p for name, p in envelope_props.items() if name != "data")
    contact = schema["$defs"]["ContactUpserted"]["properties"]
    assert all("description" in p and "examples" in p for p in contact.values())
