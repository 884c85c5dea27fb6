from __future__ import annotations

from datetime import UTC, datetime

from services.offline.replay import in_memory_snapshot
from services.recommender.scoring import recommend
from shared.sample_network import generate

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def sample_snapshot():
    network = generate(now=NOW)
    return in_memory_snapshot((e for _, e in network.messages), owner_id=network.owner_id, now=NOW)


SNAPSHOT = sample_snapshot()


def test_the_sample_network_yields_every_kind_with_one_to_three_reasons() -> None:
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2)
    kinds = {item.kind.value for item in made.items}
    assert kinds == {"reconnect", "introduction", "event", "give_back"}
    for item in made.items:
        assert 1 <= len(item.reasons) <= 3
        assert 0.0 <= item.score <= 1.0
    intro = next(i for i in made.items if i.kind.value == "introduction")
    assert intro.introducer_name
    assert intro.introducer_name in intro.reasons[0]


def test_ranks_follow_scores_within_a_kind_and_diversity_caps_companies() -> None:
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2)
    for kind in {i.kind for i in made.items}:
        items = [i for i in made.items if i.kind == kind]
        assert [i.rank for i in items] == list(range(1, len(items) + 1))
        assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    people = {p.person_id: p for p in SNAPSHOT.people.values()}
    for kind in ("reconnect", "introduction"):
        companies = [people[i.subject_id].company for i in made.items if i.kind.value == kind]
        assert all(companies.count(c) <= 2 for c in set(companies) if c)


def test_the_owner_is_never_suggested_to_themself() -> None:
    made = recommend(SNAPSHOT, per_kind=50, max_per_company=50)
    assert not {i.subject_id for i in made.items} & SNAPSHOT.self_ids


def test_suppressed_subjects_are_left_out() -> None:
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2)
    top = made.items[0].subject_id
    quieter = SNAPSHOT.__class__(
        **{**SNAPSHOT.__dict__, "suppressed": frozenset({top}), "_by_person": {}}
    )
    again = recommend(quieter, per_kind=10, max_per_company=2)
    assert top not in {i.subject_id for i in again.items}


def test_only_grounded_suggestions_above_the_floor_and_each_event_once() -> None:
    from dataclasses import replace

    from services.recommender import candidates, scoring
    from shared.messages.recommendations import SuggestionKind

    made = recommend(SNAPSHOT, per_kind=50, max_per_company=50)
    assert made.items
    assert all(i.score >= scoring.MIN_SCORE for i in made.items)
    found = candidates.all_candidates(SNAPSHOT)
    kept = {c.subject_id for kind in found for c in scoring.worth_saying(found[kind], SNAPSHOT)}
    assert {i.subject_id for i in made.items} <= kept
    # An event none of whose facts is the owner's (no contact or target registered, no
    # topic followed or city wanted, no companion) is never said; its twin on the same day is one event.
    [event, *_] = found[SuggestionKind.EVENT]
    empty = replace(
        event,
        context={k: 0.0 for k in event.context},
        features={k: 0.0 for k in event.features},
    )
    assert not scoring.grounded(empty)
    twin_id = "twin"
    original = SNAPSHOT.events[event.subject_id]
    events = {
        **SNAPSHOT.events,
        twin_id: replace(original, id=twin_id, title=original.title.upper()),
    }
    doubled = SNAPSHOT.__class__(**{**SNAPSHOT.__dict__, "events": events, "_by_person": {}})
    twin = replace(event, subject_id=twin_id)
    assert len(scoring.worth_saying([event, twin], doubled)) == 1
