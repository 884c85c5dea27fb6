"""The rankers of each kind: the transparent prior, the row of features every ranker reads,
and the learned pipelines that may replace the prior.

The prior: documented weights over features, as a scikit-learn estimator.

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

A ranker reads a candidate as one row (``vector``, ``matrix``): the prior's scaled features,
then the raw facts behind them (a learned model may weigh those differently). Serving,
training and evaluation build their rows here, so a model always sees columns in the order
it learned them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from services.recommender import features as f
from services.recommender.candidates import Candidate
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


# -- The row a ranker reads ----------------------------------------------------

EXTRA = {
    SuggestionKind.RECONNECT: (
        "log_silence",
        "log_usual_gap",
        "log_meetings",
        *(f"log_intensity_{h:g}" for h in f.INTENSITY_HALF_LIVES),
        "alive",
    ),
    SuggestionKind.INTRODUCTION: ("log_mutual", "log_linked_ties", "log_link_strength"),
    SuggestionKind.EVENT: ("log_contacts", "log_targets", "log_companions"),
    SuggestionKind.GIVE_BACK: ("log_received", "log_given"),
}
"""Raw facts behind the prior's scaled features, which a learned model may weigh differently.
Times are in horizons, so a model learned on one unit of time ranks another alike."""


def feature_names(kind: SuggestionKind) -> tuple[str, ...]:
    return (*FEATURES[kind], *EXTRA[kind])


def _log(value: float) -> float:
    """The log of a time in horizons, kept finite: a thousandth of a horizon is one sitting."""
    return math.log(max(value, f.SHORTEST_GAP))


def vector(candidate: Candidate) -> list[float]:
    ctx = candidate.context
    extra = {
        "log_silence": _log(ctx.get("silence", 0.0)),
        "log_usual_gap": _log(ctx.get("usual_gap", 0.0) or f.DEFAULT_CADENCE),
        "log_meetings": math.log1p(ctx.get("meetings", 0.0)),
        **{
            f"log_intensity_{h:g}": math.log1p(ctx.get(f"intensity_{h:g}", 0.0))
            for h in f.INTENSITY_HALF_LIVES
        },
        "alive": ctx.get("alive", 0.0),
        "log_mutual": math.log1p(ctx.get("mutual", 0.0)),
        "log_linked_ties": math.log1p(ctx.get("linked_ties", 0.0)),
        "log_link_strength": math.log1p(ctx.get("link_strength", 0.0)),
        "log_contacts": math.log1p(ctx.get("contacts", 0.0)),
        "log_targets": math.log1p(ctx.get("targets", 0.0)),
        "log_companions": math.log1p(ctx.get("companions", 0.0)),
        "log_received": math.log1p(ctx.get("received", 0.0)),
        "log_given": math.log1p(ctx.get("given", 0.0)),
    }
    return [
        *(candidate.features[n] for n in FEATURES[candidate.kind]),
        *(extra[n] for n in EXTRA[candidate.kind]),
    ]


def matrix(found: list[Candidate]) -> np.ndarray:
    return np.array([vector(c) for c in found], dtype=float)


# -- The learned pipelines, and how serving scores -----------------------------

PIPELINES = ("logistic", "boosted")
"""The recipes tried for each kind; training keeps the one that ranks best on later weeks."""


def build_pipeline(
    kind: SuggestionKind, *, recipe: str = "logistic", random_state: int = 0
) -> Pipeline:
    """``logistic``: scaled features, L2-regularised logistic regression (the features
    already carry the non-linear parts, such as the chance of meeting, and it scores a
    million candidates in milliseconds). ``boosted``: gradient-boosted trees, which find
    interactions themselves given enough positives."""
    del kind  # the same recipes for every kind; the argument keeps call sites stable
    if recipe == "logistic":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=0.1, max_iter=1000, random_state=random_state)),
            ]
        )
    if recipe == "boosted":
        return Pipeline(
            [
                (
                    "model",
                    HistGradientBoostingClassifier(
                        max_iter=60,  # 100k candidates scored in well under 0.2 s
                        learning_rate=0.1,
                        max_leaf_nodes=15,
                        l2_regularization=1.0,
                        min_samples_leaf=20,
                        random_state=random_state,
                    ),
                )
            ]
        )
    raise ValueError(f"unknown recipe {recipe!r}")


class Ranker(Protocol):
    version: str

    def score(self, matrix: np.ndarray) -> np.ndarray: ...


class PriorRanker:
    """The transparent prior, reading the first columns (the prior's own features)."""

    def __init__(self, kind: SuggestionKind) -> None:
        self.version = PRIOR_VERSION
        self._model = prior_for(kind)
        self._width = len(FEATURES[kind])

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return self._model.predict(matrix[:, : self._width])


class LearnedRanker:
    """A fitted pipeline: its probability of the positive class is the score."""

    def __init__(self, pipeline: Any, version: str, metadata: dict[str, Any] | None = None) -> None:
        self.version = version
        self.pipeline = pipeline
        self.metadata = metadata or {}

    def score(self, matrix: np.ndarray) -> np.ndarray:
        probabilities: np.ndarray = self.pipeline.predict_proba(matrix)[:, 1]
        return probabilities
