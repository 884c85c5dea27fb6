"""The transparent prior: documented weights over features, as a scikit-learn estimator.

It serves before any model is trained, so serving never asks "trained yet?". Each kind's
weights sum to 1 and every feature lies in [0, 1], so scores lie in [0, 1].

Times are in horizons (how far ahead a suggestion looks, 30 days when serving), never
in days, so the same history ranks alike in any unit of time.

reconnect     recency 0.40 (halving with every horizon of silence), tie_strength 0.25
              (meetings halving every 12 horizons), frequency 0.10 (meetings halving every
              4 horizons), goal_fit 0.15, is_customer 0.05, same_city 0.05; rhythm (the
              chance of meeting within a horizon from the contact's own gaps) 0: measured
              alone on six real histories it ranked below recency and frequency on all of
              them (docs/evaluation.md); a learned model may still weigh it
introduction  linked_ties 0.30 (the contacts linked to the person, each by the owner's
              recent meetings with them and by how strongly they are linked: 1 for the same
              company, an event by its recency over its size), seen_together 0.15 (those
              links alone), introducer_tie 0.15, mutual_contacts 0.10, goal_fit 0.20,
              same_city 0.10
event         targets_registered 0.25, close_contacts_registered 0.20 (contacts going,
              each weighed by the tie), contacts_registered 0.10, companions 0.15 (the
              people the owner went to past events with), topic_fit 0.20, city_fit 0.10
give_back     recency 0.70 (of the latest favour received: most favours are returned within
              a few months, and one left open long is seldom returned), tie_strength 0.20,
              balance 0.10 (favours received minus given)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from services.recommender import features as f
from shared.messages.recommendations import SuggestionKind

PRIOR_VERSION = "prior-4"

PRIOR_WEIGHTS: dict[SuggestionKind, dict[str, float]] = {
    SuggestionKind.RECONNECT: {
        "recency": 0.40,
        "frequency": 0.10,
        "rhythm": 0.0,
        "tie_strength": 0.25,
        "goal_fit": 0.15,
        "is_customer": 0.05,
        "same_city": 0.05,
    },
    SuggestionKind.INTRODUCTION: {
        "mutual_contacts": 0.10,
        "introducer_tie": 0.15,
        "linked_ties": 0.30,
        "seen_together": 0.15,
        "goal_fit": 0.20,
        "same_city": 0.10,
    },
    SuggestionKind.EVENT: {
        "contacts_registered": 0.10,
        "close_contacts_registered": 0.20,
        "targets_registered": 0.25,
        "companions": 0.15,
        "city_fit": 0.10,
        "topic_fit": 0.20,
    },
    SuggestionKind.GIVE_BACK: {"balance": 0.10, "recency": 0.70, "tie_strength": 0.20},
}

FEATURES: dict[SuggestionKind, tuple[str, ...]] = {
    SuggestionKind.RECONNECT: f.RECONNECT,
    SuggestionKind.INTRODUCTION: f.INTRODUCTION,
    SuggestionKind.EVENT: f.EVENT,
    SuggestionKind.GIVE_BACK: f.GIVE_BACK,
}


class WeightedPrior(RegressorMixin, BaseEstimator):  # type: ignore[misc]  # untyped
    """Score = weighted sum of the features, clipped to [0, 1]. Fitting learns nothing.

    ``weights`` is one weight per column, in column order.
    """

    def __init__(self, weights: Sequence[float] | None = None) -> None:
        self.weights = weights

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # set weights, not fitted to the data
        return tags

    def fit(self, X: Any, y: Any = None) -> WeightedPrior:
        """Checks the input like any estimator; the weights are set, not learned from ``y``."""
        if y is None:
            X = validate_data(self, X, reset=True)
        else:
            X, y = validate_data(self, X, y, reset=True, y_numeric=True)
        n = X.shape[1]
        if self.weights is None:
            coef = np.full(n, 1.0 / n)
        else:
            coef = np.asarray(self.weights, dtype=float)
            if coef.shape != (n,):
                raise ValueError(f"{len(coef)} weights for {n} features")
        self.coef_ = coef
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        scores: np.ndarray = np.clip(X @ self.coef_, 0.0, 1.0)
        return scores


def prior_for(kind: SuggestionKind) -> WeightedPrior:
    """The fitted prior of one kind (fitting only records the feature count)."""
    names = FEATURES[kind]
    weights = [PRIOR_WEIGHTS[kind][name] for name in names]
    return WeightedPrior(weights).fit(np.zeros((1, len(names))))


def contributions(kind: SuggestionKind, values: Mapping[str, float]) -> dict[str, float]:
    """Each feature's share of the prior score: what explanations are drawn from."""
    return {name: PRIOR_WEIGHTS[kind][name] * values.get(name, 0.0) for name in FEATURES[kind]}
