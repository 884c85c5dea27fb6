from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from services.recommender import candidates, features, rankers
from services.recommender.snapshot import Event, Favour, Goals, Interaction, Person, Snapshot
from shared.messages.recommendations import SuggestionKind

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
GOALS = Goals(
    home_city="Stockholm",
    industries=frozenset({"fintech"}),
    functions=frozenset({"CFO"}),
    cities=frozenset({"Stockholm"}),
    interests=frozenset({"payments"}),
)
ME = Person("me", "Maria", is_contact=True, is_self=True)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def snapshot(
    people: list[Person],
    interactions: list[Interaction] = (),
    events=(),
    attendance=None,
    favours=(),
) -> Snapshot:
    return Snapshot(
        owner_id="o",
        now=NOW,
        people={p.person_id: p for p in [ME, *people]},
        interactions=list(interactions),
        events={e.id: e for e in events},
        attendance=attendance or {},
        favours=list(favours),
        goals=GOALS,
    )


def meetings(person: str, *ages: float) -> list[Interaction]:
    return [Interaction(f"i-{person}-{a}", days_ago(a), frozenset({"me", person})) for a in ages]


def test_usual_cadence_is_the_median_gap_and_needs_three_meetings() -> None:
    times = [days_ago(a) for a in (130, 100, 70, 40)]
    snap = snapshot([])
    assert features.usual_cadence_days(snap, times) == pytest.approx(30.0)
    assert features.usual_gap(snap, times) == pytest.approx(1.0)  # one 30-day horizon
    assert features.usual_cadence_days(snap, times[:2]) is None


def test_reconnect_features_match_a_hand_computed_case() -> None:
    anna = Person(
        "anna",
        "Anna Berg",
        company="Nordbank",
        function="CFO",
        industry="fintech",
        city="Stockholm",
        is_contact=True,
        is_customer=True,
    )
    snap = snapshot([anna], meetings("anna", 180, 150, 120, 90))
    values, context = features.reconnect_features(snap, anna)
    # At a 30-day horizon: last met 3 horizons ago, usual gap 1 horizon.
    assert context["days_since"] == pytest.approx(90.0)
    assert context["cadence"] == pytest.approx(30.0)
    assert context["silence"] == pytest.approx(3.0)
    assert values["recency"] == pytest.approx(0.5**3)
    frequency = sum(0.5 ** (a / 30 / 4) for a in (180, 150, 120, 90))
    assert values["frequency"] == pytest.approx(1 - np.exp(-frequency / 4))
    # Each meeting keeps a tenth of its weight for good; the rest halves every 12 horizons.
    weight = sum(0.1 + 0.9 * 0.5 ** (a / 30 / 12) for a in (180, 150, 120, 90))
    assert values["tie_strength"] == pytest.approx(1 - np.exp(-weight / 4))
    assert values["goal_fit"] == pytest.approx(1.0)
    assert values["is_customer"] == 1.0
    assert values["same_city"] == 1.0


def test_a_contact_with_a_meeting_already_planned_is_not_a_reconnect_candidate() -> None:
    anna = Person("anna", "Anna", is_contact=True)
    planned = Interaction("next", NOW + timedelta(days=3), frozenset({"me", "anna"}))
    snap = snapshot([anna], [*meetings("anna", 300, 200), planned])
    assert features.reconnect_features(snap, anna) is None


def test_every_contact_met_before_is_a_reconnect_candidate_the_recent_ranked_first() -> None:
    """No gate on being overdue: a colleague met yesterday is likelier to be met again than
    one met a year ago, and leaving them out would hide what happens next."""
    anna = Person("anna", "Anna", is_contact=True)
    bo = Person("bo", "Bo", is_contact=True)
    snap = snapshot([anna, bo], meetings("anna", 60, 30, 1) + meetings("bo", 400))
    found = {c.subject_id: c for c in candidates.reconnect(snap)}
    assert set(found) == {"anna", "bo"}
    scores = rankers.prior_for(SuggestionKind.RECONNECT).predict(
        np.array([[c.features[n] for n in rankers.FEATURES[c.kind]] for c in found.values()])
    )
    assert (
        dict(zip(found, scores, strict=True))["anna"] > dict(zip(found, scores, strict=True))["bo"]
    )


def test_features_ignore_meetings_after_the_cutoff() -> None:
    anna = Person("anna", "Anna", is_contact=True)
    base = meetings("anna", 200, 170, 140)
    future = [Interaction("f", NOW + timedelta(days=1), frozenset({"me", "anna"}))]
    later = snapshot([anna], base + future)
    times = features.past_meetings(later, "anna")
    assert all(t <= NOW for t in times)
    assert len(times) == 3


def test_introductions_name_the_mutual_contact_with_the_strongest_tie() -> None:
    close = Person("close", "Close Friend", is_contact=True)
    loose = Person("loose", "Loose Contact", is_contact=True)
    target = Person(
        "t", "Sara Ek", company="Klarmynt", function="CFO", industry="fintech", city="Stockholm"
    )
    event = Event("e1", "Fintech Breakfast", days_ago(40), "Stockholm", ("fintech",))
    snap = snapshot(
        [close, loose, target],
        meetings("close", 200, 100, 20) + meetings("loose", 400),
        events=[event],
        attendance={"e1": {"close": "attended", "loose": "attended", "t": "attended"}},
    )
    [found] = candidates.introduction(snap)
    assert found.subject_id == "t"
    assert found.introducer_id == "close"
    assert found.context["mutual"] == 2


def test_event_features_count_contacts_and_target_people_registered() -> None:
    anna = Person("anna", "Anna", is_contact=True)
    target = Person("t", "Sara", function="CFO", industry="fintech", city="Stockholm")
    event = Event(
        "e1",
        "Nordic Payments Seminar",
        NOW + timedelta(days=10),
        "Stockholm",
        ("payments", "fintech"),
    )
    before = [Event(f"p{i}", "Earlier", days_ago(30 * i + 10), "Stockholm") for i in (1, 2)]
    snap = snapshot(
        [anna, target],
        meetings("anna", 10),
        events=[event, *before],
        attendance={
            "e1": {"anna": "registered", "t": "registered"},
            # Anna went to both past events with the owner; Sara only to one, without her.
            "p1": {"me": "attended", "anna": "attended"},
            "p2": {"me": "attended", "anna": "attended", "t": "attended"},
        },
    )
    values, context = features.event_features(snap, event)
    anna_tie = 1 - np.exp(-(0.1 + 0.9 * 0.5 ** (10 / 30 / 12)) / 4.0)  # met 10 days ago
    closeness = context.pop("closeness")
    assert closeness == pytest.approx(anna_tie)
    assert context == {"contacts": 1.0, "targets": 1.0, "topic_hits": 2.0, "companions": 3.0}
    assert values["close_contacts_registered"] == pytest.approx(1 - np.exp(-anna_tie / 1.5))
    assert values["city_fit"] == 1.0
    assert values["topic_fit"] == 1.0
    assert values["companions"] == pytest.approx(1 - np.exp(-3 / 6))


def test_meeting_chance_of_a_regular_contact_matches_a_hand_computed_case() -> None:
    """Every 30 days (spread at its floor of 0.25 in log gap), last met 30 days ago, at a
    30-day horizon: P(still waiting) = 1 - Phi(0) = 0.5; P(waiting past 60 days) =
    1 - Phi(ln 2 / 0.25); with 0.9 a priori alive: chance = 0.9 (0.5 - that) / (0.9 * 0.5 +
    0.1), alive = 0.45 / 0.55."""
    from statistics import NormalDist

    times = [days_ago(30 * k) for k in range(6, 0, -1)]
    due, alive = features.meeting_chance(snapshot([]), times)
    later = 1 - NormalDist().cdf(np.log(2) / 0.25)
    assert due == pytest.approx(0.9 * (0.5 - later) / 0.55)
    assert alive == pytest.approx(0.45 / 0.55)


def test_a_tie_silent_for_many_of_its_usual_gaps_has_probably_lapsed() -> None:
    regular = [days_ago(150 + 30 * k) for k in range(6, 0, -1)]  # silent for 5 gaps
    due, alive = features.meeting_chance(snapshot([]), regular)
    assert due < 0.01
    assert alive < 0.01
    slow = [days_ago(150 + 180 * k) for k in range(4, -1, -1)]  # silent for under one gap
    assert features.meeting_chance(snapshot([]), slow)[1] > 0.8


def test_events_the_owner_already_registered_for_or_that_passed_are_not_suggested() -> None:
    soon = Event("soon", "Soon", NOW + timedelta(days=5), "Stockholm")
    past = Event("past", "Past", days_ago(5), "Stockholm")
    going = Event("going", "Going", NOW + timedelta(days=5), "Stockholm")
    snap = snapshot([], events=[soon, past, going], attendance={"going": {"me": "registered"}})
    assert [c.subject_id for c in candidates.event(snap)] == ["soon"]


def test_give_back_needs_more_received_than_given() -> None:
    erik = Person("erik", "Erik Nilsson", is_contact=True)
    even = Person("even", "Even Steven", is_contact=True)
    favours = [
        Favour("erik", "received", "referral", days_ago(30)),
        Favour("erik", "received", "referral", days_ago(90)),
        Favour("even", "received", "help", days_ago(30)),
        Favour("even", "given", "help", days_ago(10)),
    ]
    snap = snapshot([erik, even], favours=favours)
    [found] = candidates.give_back(snap)
    assert found.subject_id == "erik"
    assert found.context["received"] == 2
    assert found.context["given"] == 0


def test_prior_weights_sum_to_one_per_kind_and_scores_stay_in_range() -> None:
    for kind, weights in rankers.PRIOR_WEIGHTS.items():
        assert sum(weights.values()) == pytest.approx(1.0)
        assert set(weights) == set(rankers.FEATURES[kind])
        model = rankers.prior_for(kind)
        n = len(rankers.FEATURES[kind])
        assert model.predict(np.ones((1, n)))[0] == pytest.approx(1.0)
        assert model.predict(np.zeros((1, n)))[0] == 0.0


def test_prior_scores_are_the_documented_weighted_sum() -> None:
    model = rankers.prior_for(SuggestionKind.RECONNECT)
    row = {
        "recency": 0.6,
        "frequency": 0.5,
        "rhythm": 0.9,
        "tie_strength": 0.8,
        "goal_fit": 0.4,
        "is_customer": 1.0,
        "same_city": 0.0,
    }
    x = np.array([[row[n] for n in rankers.FEATURES[SuggestionKind.RECONNECT]]])
    expected = 0.4 * 0.6 + 0.1 * 0.5 + 0.0 * 0.9 + 0.25 * 0.8 + 0.15 * 0.4 + 0.05 * 1.0
    assert model.predict(x)[0] == pytest.approx(expected)


def test_prior_refuses_the_wrong_number_of_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        rankers.WeightedPrior([0.5, 0.5]).fit(np.zeros((1, 3)))


def test_suggestion_ids_are_stable_and_change_with_a_new_episode() -> None:
    anna = Person("anna", "Anna", is_contact=True)
    first = candidates.reconnect(snapshot([anna], meetings("anna", 400, 300, 200)))[0]
    again = candidates.reconnect(snapshot([anna], meetings("anna", 400, 300, 200)))[0]
    later = candidates.reconnect(snapshot([anna], meetings("anna", 400, 300, 200, 150)))[0]
    assert first.suggestion_id("o") == again.suggestion_id("o")
    assert first.suggestion_id("o") != later.suggestion_id("o")
    assert first.suggestion_id("o") != first.suggestion_id("other-owner")


def test_a_dormant_tie_keeps_enough_weight_to_be_suggested() -> None:
    """Met three times five years ago: the tie is dormant, not gone, and the prior still
    says so above the score floor (an old calendar export gives suggestions)."""
    from services.recommender.scoring import MIN_SCORE

    anna = Person("anna", "Anna", is_contact=True)
    snap = snapshot([anna], meetings("anna", 5 * 365, 5 * 365 + 7, 5 * 365 + 14))
    [found] = candidates.reconnect(snap)
    score = rankers.prior_for(SuggestionKind.RECONNECT).predict(
        np.array([[found.features[n] for n in rankers.FEATURES[found.kind]]])
    )[0]
    assert found.features["recency"] < 1e-15
    assert score >= MIN_SCORE
