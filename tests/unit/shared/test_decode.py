from __future__ import annotations

import base64
import json

from aiokafka import ConsumerRecord

from shared import topics
from shared.broker import DEAD_LETTER_MAX_BYTES, MAX_MESSAGE_BYTES, decode_records
from shared.messages import encode, wrap
from shared.messages.inputs import ContactUpserted


def record(topic: str, value: bytes, key: bytes | None = b"o1", offset: int = 0) -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic,
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=(),
    )


def contact() -> bytes:
    return encode(
        wrap(ContactUpserted(external_id="c1", full_name="Anna Berg"), owner_id="o1", source="t")
    )


def test_good_records_pass_and_bad_ones_become_dead_letters_with_their_reason() -> None:
    prefix = "t1."
    records = [
        record(prefix + topics.CONTACTS, contact(), offset=1),
        record(prefix + topics.CONTACTS, b"{not json", offset=2),
        record(prefix + topics.CONTACTS, json.dumps({"id": "x"}).encode(), offset=3),
    ]
    good, bad = decode_records(records, prefix=prefix, service="ingest")
    assert [g.record.offset for g in good] == [1]
    assert [b.dead_letter.data.offset for b in bad] == [2, 3]
    first = bad[0].dead_letter.data
    assert first.original_topic == prefix + topics.CONTACTS
    assert base64.b64decode(first.original_value_b64) == b"{not json"
    assert "json" in first.reason.lower()
    assert "data" in bad[1].dead_letter.data.reason  # names the missing field
    assert all(b.topic == topics.CONTACTS for b in bad)


def test_a_key_that_is_not_the_owner_is_refused() -> None:
    good, bad = decode_records(
        [record(topics.CONTACTS, contact(), key=b"someone-else")], prefix="", service="ingest"
    )
    assert not good
    assert "owner_id" in bad[0].dead_letter.data.reason


def test_oversized_and_invalid_utf8_records_are_dead_lettered_not_raised() -> None:
    huge = b"{" + b" " * MAX_MESSAGE_BYTES + b"}"
    good, bad = decode_records(
        [record(topics.CONTACTS, huge), record(topics.CONTACTS, b"\xff\xfe{")],
        prefix="",
        service="ingest",
    )
    assert not good
    assert "exceeds" in bad[0].dead_letter.data.reason
    assert len(bad) == 2


def test_a_dead_letter_fits_the_limit_it_is_produced_with_whatever_the_original() -> None:
    # Kafka's default record limit (1 MiB) and one a broker could be configured to allow.
    for size, whole in ((1_048_588, True), (3 * 1024 * 1024, False)):
        original = b"{" + b"x" * (size - 1)
        _, [bad] = decode_records([record(topics.CONTACTS, original)], prefix="", service="ingest")
        assert len(encode(bad.dead_letter)) <= DEAD_LETTER_MAX_BYTES
        kept = base64.b64decode(bad.dead_letter.data.original_value_b64)
        assert (kept == original) is whole
        assert original.startswith(kept)
        # A cut original says so, and where the whole record is.
        said = f"the original has {size} bytes" in bad.dead_letter.data.reason
        assert said is not whole
        assert ("contacts.v1 1:0" in bad.dead_letter.data.reason) is said


def test_an_unreadable_key_still_yields_a_dead_letter() -> None:
    _, bad = decode_records(
        [record(topics.CONTACTS, b"x", key=b"\xff\x00")], prefix="", service="ingest"
    )
    assert bad[0].dead_letter.owner_id == "unknown"


def test_deeply_nested_and_wrongly_typed_json_is_dead_lettered_not_raised() -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    wrong = json.dumps(
        {"id": 1, "type": [], "source": {}, "time": "yesterday", "owner_id": "o1", "data": "x"}
    ).encode()
    formula = encode(
        wrap(
            ContactUpserted(external_id="c", full_name='=HYPERLINK("x")'), owner_id="o1", source="t"
        )
    )
    good, bad = decode_records(
        [
            record(topics.CONTACTS, nested),
            record(topics.CONTACTS, wrong),
            record(topics.CONTACTS, formula),
        ],
        prefix="",
        service="ingest",
    )
    assert len(bad) == 2
    assert all(b.category == "invalid" for b in bad)
    assert good[0].envelope.data.full_name == '=HYPERLINK("x")'  # kept as text, never evaluated
