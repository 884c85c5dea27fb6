"""Reasons from what drove a learned model's score, measured on the model itself."""

from __future__ import annotations

import numpy as np

from services.recommender import explain, feature_effects, rankers
from services.recommender.candidates import all_candidates
from services.recommender.rankers import LearnedRanker, build_pipeline
from services.recommender.scoring import recommend
from shared.messages.recommendations import SuggestionKind
from tests.unit.recommender.test_scoring import SNAPSHOT

KIND = SuggestionKind.RECONNECT
FOUND = all_candidates(SNAPSHOT)[KIND]
MATRIX = rankers.matrix(FOUND)
NAMES = rankers.feature_names(KIND)


def model_that_only_values(feature: str) -> LearnedRanker:
    """A logistic model fitted to labels that follow one feature alone."""
    column = MATRIX[:, NAMES.index(feature)]
    labels = (column > np.median(column)).astype(int)
    if labels.min() == labels.max():
        labels[0] = 1 - labels[0]
    return LearnedRanker(build_pipeline(KIND).fit(MATRIX, labels), f"only-{feature}")


def test_the_feature_a_model_learned_is_what_pushed_its_best_items_up() -> None:
    model = model_that_only_values("is_customer")
    best = int(np.argmax(model.score(MATRIX)))
    [push] = feature_effects.effects(KIND, model, MATRIX, [best])
    assert max(push, key=push.__getitem__) == "is_customer"
    assert push["is_customer"] > 0


def test_raw_facts_are_grouped_under_the_feature_they_describe() -> None:
    model = model_that_only_values("log_meetings")
    [push] = feature_effects.effects(KIND, model, MATRIX, [int(np.argmax(model.score(MATRIX)))])
    assert "log_meetings" not in push
    assert push["tie_strength"] > 0
    assert set(push) <= set(rankers.feature_names(KIND)) | set(feature_effects.DESCRIBES.values())


def test_served_by_a_learned_model_reasons_follow_the_model_not_the_prior() -> None:
    model = model_that_only_values("is_customer")
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2, models={KIND: model})
    customers = {p.person_id for p in SNAPSHOT.people.values() if p.is_customer}
    top = next(i for i in made.items if i.kind is KIND)
    assert top.subject_id in customers
    assert top.reasons[0].startswith("A customer")
    for item in made.items:
        if item.kind is KIND and item.subject_id not in customers:
            assert not any(r.startswith("A customer") for r in item.reasons)


def test_a_feature_that_lowered_the_score_is_never_a_reason() -> None:
    candidate = FOUND[0]
    reasons = explain.reasons(candidate, SNAPSHOT, {"is_customer": -0.3, "tie_strength": 0.2})
    assert reasons == [explain.PHRASES[KIND](candidate, SNAPSHOT, "tie_strength")]
