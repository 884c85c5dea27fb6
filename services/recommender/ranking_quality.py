"""Ranking metrics: NDCG@k, precision@k, recall@k with binary relevance."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    gains = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return gains / ideal if ideal else 0.0


def precision_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant) if relevant else 0.0


def paired_difference(
    ours: Sequence[float],
    theirs: Sequence[float],
    *,
    groups: Sequence[str] | None = None,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``ours - theirs`` over the same rankings, with a 95% paired bootstrap
    interval: whether a gap between two rankers is more than the luck of which owners the
    data set holds. With ``groups`` (the owner of each ranking), whole owners are resampled,
    each with all their rankings, since one owner's rankings at several cut-offs are alike."""
    differences = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    if differences.size == 0:
        raise ValueError("no rankings to compare")
    labels = list(groups) if groups is not None else list(range(differences.size))
    if len(labels) != differences.size:
        raise ValueError("one group per ranking")
    index = {label: i for i, label in enumerate(dict.fromkeys(labels))}
    owner_of = np.array([index[label] for label in labels])
    sums = np.bincount(owner_of, weights=differences, minlength=len(index))
    counts = np.bincount(owner_of, minlength=len(index)).astype(float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(index), size=(BOOTSTRAP_RESAMPLES, len(index)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(differences.mean()), float(low), float(high)
