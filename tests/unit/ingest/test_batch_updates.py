"""What ingest publishes for a batch: each person once, in their latest state."""

from __future__ import annotations

from datetime import UTC, datetime

from services.ingest.handlers import once_per_person
from shared.messages.network import InteractionRecorded, PersonChanged, PersonErased

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
