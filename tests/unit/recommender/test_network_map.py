from __future__ import annotations

from datetime import UTC, datetime

from services.recommender import network_map
from services.recommender.snapshot import Goals, Interaction, Person, Snapshot

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def snapshot() -> Snapshot:
    people = [
        Person("me", "Maria", is_contact=True, is_self=True),
        Person("a", "Anna", function="CFO", industry="fintech", city="Göteborg", is_contact=True),
        Person("b", "Bo", function="CIO", industry="retail", city="Stockholm", is_contact=True),
        Person("c", "Cy", function="Sales", industry="retail", city="Stockholm", is_contact=True),
        Person("x", "Stranger", function="CFO", city="Stockholm"),
    ]
    meetings = [
        Interaction(f"i{k}", datetime(2026, 11, k + 1, tzinfo=UTC), frozenset({"me", "a"}))
        for k in range(8)
    ]
    return Snapshot(
        owner_id="o",
        now=NOW,
        people={p.person_id: p for p in people},
        interactions=meetings,
        events={},
        attendance={},
        favours=[],
        goals=Goals(
            home_city="Stockholm",
            industries=frozenset({"fintech", "retail"}),
            functions=frozenset({"CFO", "CIO"}),
            cities=frozenset({"Stockholm"}),
        ),
    )


def test_the_map_counts_contacts_only_and_names_the_gaps() -> None:
    network = network_map.build(snapshot())
    assert network.contacts == 3
    assert network.targets["CFOs in Stockholm"] == 0  # the stranger is not a contact yet
    assert network.targets["CIOs in Stockholm"] == 1
    assert "0 CFOs in Stockholm" in network.gaps
    assert network.strong_by_city["Göteborg"] == 1
    text = network_map.render_text(network)
    assert "0 CFOs in Stockholm" in text
    assert "strongest ties are in: Göteborg 1" in text


def test_the_map_draws_a_png(tmp_path) -> None:
    path = network_map.render_png(network_map.build(snapshot()), tmp_path / "map.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
