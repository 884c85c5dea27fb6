"""One owner's snapshot in, ranked and explained recommendations out."""

from __future__ import annotations

import numpy as np

from services.recommender import candidates as cand
from services.recommender import explain, prior, ranking
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import RankedItem, RecommendationsMade


def recommend(snapshot: Snapshot, *, per_kind: int, max_per_company: int) -> RecommendationsMade:
    items: list[RankedItem] = []
    for kind, found in cand.all_candidates(snapshot).items():
        if not found:
            continue
        names = prior.FEATURES[kind]
        matrix = np.array([[c.features[n] for n in names] for c in found], dtype=float)
        scores = prior.prior_for(kind).predict(matrix)
        ranked = ranking.rerank(
            found, scores.tolist(), limit=per_kind, max_per_company=max_per_company
        )
        for rank, (candidate, score) in enumerate(ranked, start=1):
            items.append(
                RankedItem(
                    suggestion_id=candidate.suggestion_id(snapshot.owner_id),
                    kind=kind,
                    subject_id=candidate.subject_id,
                    subject_name=candidate.subject_name,
                    introducer_id=candidate.introducer_id,
                    introducer_name=candidate.introducer_name,
                    score=round(float(score), 4),
                    rank=rank,
                    reasons=explain.reasons(candidate, snapshot),
                )
            )
    return RecommendationsMade(
        model_version=prior.PRIOR_VERSION, generated_at=snapshot.now, items=items
    )
