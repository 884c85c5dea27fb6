"""One owner's snapshot in, ranked and explained recommendations out."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from services.recommender import candidates as cand
from services.recommender import explain, feature_effects, feature_matrix, ranking
from services.recommender.pipeline import PriorRanker, Ranker
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import RankedItem, RecommendationsMade, SuggestionKind


def rankers(models: Mapping[SuggestionKind, Ranker] | None = None) -> dict[SuggestionKind, Ranker]:
    """The promoted model of each kind, else the prior."""
    return {kind: (models or {}).get(kind) or prior_ranker(kind) for kind in SuggestionKind}


@functools.cache
def prior_ranker(kind: SuggestionKind) -> PriorRanker:
    """Built once: its weights are constants, and scoring never changes it."""
    return PriorRanker(kind)


def recommend(
    snapshot: Snapshot,
    *,
    per_kind: int,
    max_per_company: int,
    models: Mapping[SuggestionKind, Ranker] | None = None,
) -> RecommendationsMade:
    serving = rankers(models)
    items: list[RankedItem] = []
    for kind, generated in cand.all_candidates(snapshot).items():
        said = ranking.worth_saying(generated, snapshot)
        if not said:
            continue
        every = feature_matrix.matrix(said)
        keep = prior_ranker(kind).score(every) >= ranking.MIN_SCORE
        found = [c for c, kept in zip(said, keep, strict=True) if kept]
        if not found:
            continue
        matrix = every[keep]
        scores = serving[kind].score(matrix)
        ranked = ranking.rerank(
            found, scores.tolist(), limit=per_kind, max_per_company=max_per_company
        )
        if isinstance(serving[kind], PriorRanker):
            why: list[dict[str, float] | None] = [None] * len(ranked)
        else:
            row = {id(c): i for i, c in enumerate(found)}
            why = list(
                feature_effects.effects(
                    kind, serving[kind], matrix, [row[id(c)] for c, _ in ranked]
                )
            )
        for rank, ((candidate, score), effects) in enumerate(zip(ranked, why, strict=True), 1):
            items.append(
                RankedItem(
                    suggestion_id=candidate.suggestion_id(snapshot.owner_id),
                    kind=kind,
                    subject_id=candidate.subject_id,
                    subject_name=candidate.subject_name,
                    introducer_id=candidate.introducer_id,
                    introducer_name=candidate.introducer_name,
                    score=round(min(max(float(score), 0.0), 1.0), 4),
                    rank=rank,
                    reasons=explain.reasons(candidate, snapshot, effects),
                )
            )
    versions = sorted({r.version for r in serving.values()})
    return RecommendationsMade(
        model_version="+".join(versions), generated_at=snapshot.now, items=items
    )
