"""What ingest publishes for a batch: each person once, in their latest state."""

from __future__ import annotations

from datetime import UTC, datetime

from services.ingest.handlers import once_per_person
from shared.messages import wrap
from shared.messages.network import InteractionRecorded, PersonChanged, PersonErased

AT = datetime(2026, 3, 12, 9, tzinfo=UTC)


def person(pid: str, title: str | None = None) -> PersonChanged:
    return PersonChanged(person_id=pid, full_name=pid.title(), is_contact=True, title=title)


def met(iid: str, *pids: str) -> InteractionRecorded:
    return InteractionRecorded(interaction_id=iid, occurred_at=AT, person_ids=list(pids))


def batch(owner: str, *changes) -> list:
    return [
        wrap(c, owner_id=owner, source="t", message_id=f"{owner}/{i}")
        for i, c in enumerate(changes)
    ]


def test_a_person_named_by_many_inputs_is_published_once_in_their_latest_state() -> None:
    updates = batch(
        "o1",
        person("me"),
        person("anna"),
        met("i1", "me", "anna"),
        person("me"),
        person("anna", title="CFO"),
        met("i2", "me", "anna"),
    )
    out = once_per_person(updates)
    assert [u.data for u in out] == [
        person("me"),
        person("anna", title="CFO"),  # where Anna first appeared, before what names her
        met("i1", "me", "anna"),
        met("i2", "me", "anna"),
    ]
    assert [u.id for u in out] == ["o1/0", "o1/1", "o1/2", "o1/5"]


def test_an_owner_with_an_erasure_in_the_batch_keeps_every_update_in_order() -> None:
    erasing = batch("o1", person("anna"), PersonErased(person_id="anna"), person("anna"))
    other = batch("o2", person("bo"), person("bo"))
    out = once_per_person(erasing + other)
    assert out == erasing + other[:1]
