"""What drove a learned model's score: each feature's effect, measured on the model itself.

For each suggestion, every feature in turn is set to its mean over the owner's candidates
of that kind and the item is scored again; the drop in score is that feature's effect
(occlusion, which works for any model, trees or linear). The raw facts a learned model
sees are grouped under the feature they describe, so a reason can be phrased.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.recommender import rankers
from services.recommender.rankers import Ranker
from shared.messages.recommendations import SuggestionKind

DESCRIBES = {
    "log_silence": "recency",
    "log_usual_gap": "rhythm",
    "alive": "rhythm",
    "log_meetings": "tie_strength",
    "log_intensity_0.25": "recency",
    "log_intensity_1": "frequency",
    "log_intensity_4": "frequency",
    "log_intensity_16": "tie_strength",
    "log_mutual": "mutual_contacts",
    "log_linked_ties": "linked_ties",
    "log_link_strength": "seen_together",
    "log_contacts": "contacts_registered",
    "log_targets": "targets_registered",
    "log_companions": "companions",
    "log_received": "balance",
    "log_given": "balance",
}
"""Extra model inputs -> the feature (and so the phrase) they belong to."""


def effects(
    kind: SuggestionKind, ranker: Ranker, matrix: np.ndarray, rows: Sequence[int]
) -> list[dict[str, float]]:
    """For each of ``rows``: feature -> how much it raised the score (negative: lowered)."""
    if not len(rows):
        return []
    names = rankers.feature_names(kind)
    reference = matrix.mean(axis=0)
    picked = matrix[list(rows)]
    base = ranker.score(picked)
    # One batch: every picked row with one column at a time replaced by its mean.
    occluded = np.repeat(picked, len(names), axis=0)
    columns = np.tile(np.arange(len(names)), len(picked))
    occluded[np.arange(len(occluded)), columns] = reference[columns]
    drops = base.repeat(len(names)) - ranker.score(occluded)
    out = []
    for row_drops in drops.reshape(len(picked), len(names)):
        grouped: dict[str, float] = {}
        for name, drop in zip(names, row_drops, strict=True):
            feature = DESCRIBES.get(name, name)
            grouped[feature] = grouped.get(feature, 0.0) + float(drop)
        out.append(grouped)
    return out
