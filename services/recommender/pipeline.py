"""The learned model of each kind: a scikit-learn Pipeline, and how serving scores with it."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from services.recommender import prior
from shared.messages.recommendations import SuggestionKind


def build_pipeline(kind: SuggestionKind, *, random_state: int = 0) -> Pipeline:
    """Gradient-boosted trees over the kind's features (trees need no scaling)."""
    del kind  # one recipe for every kind today; the argument keeps call sites stable
    return Pipeline(
        [
            (
                "model",
                HistGradientBoostingClassifier(
                    max_iter=150,
                    learning_rate=0.05,
                    max_leaf_nodes=15,
                    l2_regularization=1.0,
                    min_samples_leaf=10,
                    random_state=random_state,
                ),
            )
        ]
    )


class Ranker(Protocol):
    version: str

    def score(self, matrix: np.ndarray) -> np.ndarray: ...


class PriorRanker:
    """The transparent prior, reading the first columns (the prior's own features)."""

    def __init__(self, kind: SuggestionKind) -> None:
        self.version = prior.PRIOR_VERSION
        self._model = prior.prior_for(kind)
        self._width = len(prior.FEATURES[kind])

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return self._model.predict(matrix[:, : self._width])


class LearnedRanker:
    """A fitted pipeline: its probability of the positive class is the score."""

    def __init__(self, pipeline: Any, version: str, metadata: dict[str, Any] | None = None) -> None:
        self.version = version
        self.pipeline = pipeline
        self.metadata = metadata or {}

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba(matrix)[:, 1]
