"""Any bytes on any topic: a valid envelope or a dead letter, never an exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.broker import decode_records
from shared.messages import TOPIC_PAYLOADS
from tests.unit.shared.test_decode import record

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
envelope_like = st.fixed_dictionaries(
    {
        "id": st.text(max_size=10),
        "type": st.text(max_size=30),
        "source": st.text(max_size=10),
        "time": st.text(max_size=30),
        "owner_id": st.sampled_from(["o1", "", "x" * 200]),
        "data": json_values,
    },
    optional={"correlation_id": json_values},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(TOPIC_PAYLOADS)),
    st.one_of(
        st.binary(max_size=500),
        json_values.map(lambda v: json.dumps(v).encode()),
        envelope_like.map(lambda v: json.dumps(v).encode()),
    ),
)
def test_every_topic_turns_any_bytes_into_an_envelope_or_a_dead_letter(topic, value) -> None:
    good, bad = decode_records([record(topic, value, key=b"o1")], prefix="", service="fuzz")
    assert len(good) + len(bad) == 1
    for letter in bad:
        assert letter.dead_letter.data.reason
