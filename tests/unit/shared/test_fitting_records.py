"""Network updates too large for one record go as several, in order."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import topics
from shared.broker import MAX_MESSAGE_BYTES, encoded_to_fit
from shared.messages import encode, wrap
from shared.messages.network import (
    CHANGES_PER_MESSAGE,
    ErasureConfirmed,
    InteractionRecorded,
    NetworkChanges,
)

AT = datetime(2026, 3, 12, 9, tzinfo=UTC)


def town_hall(index: int) -> InteractionRecorded:
    """A meeting of 600 people: about 25 KB encoded."""
    return InteractionRecorded(
        interaction_id=f"i{index}",
        occurred_at=AT,
        person_ids=[f"p-{index:03d}-{n:04d}-{'x' * 28}" for n in range(600)],
    )


def test_a_pack_too_large_for_a_record_is_split_in_order_with_ids_of_its_own() -> None:
    changes = [town_hall(i) for i in range(CHANGES_PER_MESSAGE)]
    envelope = wrap(NetworkChanges(changes=changes), owner_id="o1", source="t", message_id="m")
    out = list(encoded_to_fit([(topics.NETWORK_UPDATES, envelope)]))
    assert len(out) > 2  # 2.5 MB: halved, and the halves halved
    assert all(len(value) <= MAX_MESSAGE_BYTES for _, _, value in out)
    assert [c for _, e, _ in out for c in e.data.changes] == changes
    assert len({e.id for _, e, _ in out}) == len(out)
    assert {(t, e.owner_id, e.correlation_id) for t, e, _ in out} == {
        (topics.NETWORK_UPDATES, "o1", None)
    }


def test_a_message_that_fits_goes_as_it_is() -> None:
    small = wrap(NetworkChanges(changes=[town_hall(1)]), owner_id="o1", source="t")
    done = wrap(
        ErasureConfirmed(service="t", request_id="r", scope="owner"), owner_id="o1", source="t"
    )
    out = list(
        encoded_to_fit([(topics.NETWORK_UPDATES, small), (topics.ERASURE_CONFIRMATIONS, done)])
    )
    assert [(t, e, v) for t, e, v in out] == [
        (topics.NETWORK_UPDATES, small, encode(small)),
        (topics.ERASURE_CONFIRMATIONS, done, encode(done)),
    ]
