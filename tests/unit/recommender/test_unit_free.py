"""Rankings do not depend on the unit of time.

Multiply every time of a history, measured from the cut-off, by one factor, and the horizon
with it: every ranking, the prior's and a learned model's, stays the same. A history in
seconds (sensors) ranks as one in months (a professional's calendar); no fixed day floor,
30-day window or 90-day warm-up can hide in the features.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.recommender import backtest, rankers, train
from services.recommender.candidates import all_candidates
from services.recommender.rankers import build_pipeline
from services.recommender.snapshot import Event, Favour, Interaction, Person, Snapshot
from shared.messages.recommendations import SuggestionKind

from .test_scoring import SNAPSHOT

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TOLERANCE = 1e-9


def scaled(snapshot: Snapshot, factor: float) -> Snapshot:
    """The same history with every time's distance from ``now`` multiplied by ``factor``."""

    def at(moment: datetime) -> datetime:
        return snapshot.now + (moment - snapshot.now) * factor

    return replace(
        snapshot,
        interactions=[replace(i, at=at(i.at)) for i in snapshot.interactions],
        events={k: replace(e, starts_at=at(e.starts_at)) for k, e in snapshot.events.items()},
        favours=[replace(f, at=at(f.at)) for f in snapshot.favours],
        horizon=snapshot.horizon * factor,
        _by_person={},
        _ages={},
    )


def prior_scores(snapshot: Snapshot) -> dict[SuggestionKind, dict[str, float]]:
    out = {}
    for kind, found in all_candidates(snapshot).items():
        if found:
            scores = rankers.prior_for(kind).predict(
                rankers.matrix(found)[:, : len(rankers.FEATURES[kind])]
            )
            out[kind] = {c.subject_id: float(s) for c, s in zip(found, scores, strict=True)}
    return out


def assert_same_order(left: dict[str, float], right: dict[str, float]) -> None:
    """Same candidates, and every pair that one scoring tells apart ranked alike by the other."""
    assert left.keys() == right.keys()
    for a, b in itertools.combinations(left, 2):
        if abs(left[a] - left[b]) > TOLERANCE:
            assert (left[a] > left[b]) == (right[a] > right[b]), (a, b)


def assert_rankings_unchanged(snapshot: Snapshot, factor: float) -> None:
    before, after = prior_scores(snapshot), prior_scores(scaled(snapshot, factor))
    assert before.keys() == after.keys()
    for kind in before:
        assert_same_order(before[kind], after[kind])


@pytest.mark.parametrize("factor", [1 / 60, 7, 52, 365])
def test_the_sample_network_ranks_alike_in_any_unit_of_time(factor: float) -> None:
    assert_rankings_unchanged(SNAPSHOT, factor)


@pytest.mark.parametrize("factor", [1 / 60, 24])
def test_a_learned_model_trained_on_a_scaled_history_ranks_alike(factor: float) -> None:
    """Backtest dates one horizon apart scale with the history, so the rows, the fitted
    model and its ranking are the same."""

    def learned(snapshot: Snapshot) -> dict[str, float]:
        first = train.first_fact([snapshot], default=snapshot.now)
        moments = train.cutoffs(first, snapshot.now, snapshot.horizon)
        x, y, _, _ = backtest.rows([snapshot], moments, snapshot.horizon)[SuggestionKind.RECONNECT]
        model = build_pipeline(SuggestionKind.RECONNECT).fit(x, y)
        found = all_candidates(snapshot)[SuggestionKind.RECONNECT]
        scores = model.predict_proba(rankers.matrix(found))[:, 1]
        return {c.subject_id: float(s) for c, s in zip(found, scores, strict=True)}

    before = learned(SNAPSHOT)
    after = learned(scaled(SNAPSHOT, factor))
    assert len(before) > 10
    assert_same_order(before, after)


ME = Person("me", "Me", is_contact=True, is_self=True)


@st.composite
def histories(draw: st.DrawFn) -> Snapshot:
    """Contacts met at whole minutes over two years (so that every scaling below is exact
    in microseconds), people met only through events, upcoming events, favours."""
    contacts = [
        Person(
            f"c{i}",
            f"Contact {i}",
            company=draw(st.sampled_from([None, "A", "B"])),
            is_contact=True,
        )
        for i in range(draw(st.integers(2, 8)))
    ]
    strangers = [
        Person(f"s{i}", f"Stranger {i}", company=draw(st.sampled_from([None, "A", "B"])))
        for i in range(draw(st.integers(0, 4)))
    ]
    minutes = st.integers(1, 2 * 365 * 24 * 60)
    interactions = [
        Interaction(
            f"m{p.person_id}{k}", NOW - timedelta(minutes=m), frozenset({"me", p.person_id})
        )
        for p in contacts
        for k, m in enumerate(draw(st.lists(minutes, min_size=1, max_size=12)))
    ]
    events, attendance = {}, {}
    for k in range(draw(st.integers(0, 4))):
        when = NOW + timedelta(minutes=draw(st.integers(-400 * 24 * 60, 120 * 24 * 60)))
        events[f"e{k}"] = Event(f"e{k}", f"Event {k}", when)
        people = draw(
            st.lists(st.sampled_from([p.person_id for p in contacts + strangers]), max_size=6)
        )
        attendance[f"e{k}"] = dict.fromkeys(people, "registered")
    favours = [
        Favour(
            p.person_id,
            draw(st.sampled_from(["received", "given"])),
            "referral",
            NOW - timedelta(minutes=m),
        )
        for p in contacts
        for m in draw(st.lists(minutes, max_size=2))
    ]
    return Snapshot(
        owner_id="o",
        now=NOW,
        people={p.person_id: p for p in [ME, *contacts, *strangers]},
        interactions=interactions,
        events=events,
        attendance=attendance,
        favours=favours,
    )


@settings(max_examples=60, deadline=None)
@given(history=histories(), factor=st.sampled_from([1 / 60, 1 / 4, 3, 10, 100]))
def test_any_history_ranks_alike_in_any_unit_of_time(history: Snapshot, factor: float) -> None:
    assert_rankings_unchanged(history, factor)


def test_a_fixed_unit_would_be_caught() -> None:
    """The check has teeth: the same history with the horizon left unscaled ranks otherwise."""
    changed = replace(scaled(SNAPSHOT, 1 / 60), horizon=SNAPSHOT.horizon, _ages={})
    before, after = prior_scores(SNAPSHOT), prior_scores(changed)
    kind = SuggestionKind.RECONNECT
    disagreements = sum(
        (before[kind][a] > before[kind][b]) != (after[kind][a] > after[kind][b])
        for a, b in itertools.combinations(before[kind], 2)
        if abs(before[kind][a] - before[kind][b]) > TOLERANCE
    )
    assert disagreements > 0
    assert np.isfinite(list(after[kind].values())).all()
