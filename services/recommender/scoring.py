"""One owner's snapshot in, ranked and explained recommendations out: what is worth saying
(a grounded reason, evidence above the floor), scored, then re-ranked: best first within a
kind, at most a few per company, a bounded list."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence

from services.recommender import candidates as cand
from services.recommender import explain, feature_effects
from services.recommender.candidates import Candidate
from services.recommender.rankers import PriorRanker, Ranker, matrix
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import RankedItem, RecommendationsMade, SuggestionKind


def serving_rankers(
    models: Mapping[SuggestionKind, Ranker] | None = None,
) -> dict[SuggestionKind, Ranker]:
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
    serving = serving_rankers(models)
    items: list[RankedItem] = []
    for kind, generated in cand.all_candidates(snapshot).items():
        said = worth_saying(generated, snapshot)
        if not said:
            continue
        every = matrix(said)
        keep = prior_ranker(kind).score(every) >= MIN_SCORE
        found = [c for c, kept in zip(said, keep, strict=True) if kept]
        if not found:
            continue
        kept_rows = every[keep]
        scores = serving[kind].score(kept_rows)
        ranked = rerank(found, scores.tolist(), limit=per_kind, max_per_company=max_per_company)
        if isinstance(serving[kind], PriorRanker):
            why: list[dict[str, float] | None] = [None] * len(ranked)
        else:
            row = {id(c): i for i, c in enumerate(found)}
            why = list(
                feature_effects.effects(
                    kind, serving[kind], kept_rows, [row[id(c)] for c, _ in ranked]
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


# -- What is worth saying, and re-ranking --------------------------------------

MIN_SCORE = 0.005
"""Below this the prior's score shows as 0.00: the owner's data say nothing for it. The
floor is on the prior, the weighing of the evidence, not on a learned model's score: a
learned model's probabilities are low wherever what it predicts is rare, and its ranking
of what has evidence is still its ranking."""

# What, in a candidate's facts and features, comes from the owner's own data: a meeting, a
# contact or target registered, a goal matched (a topic followed, a city wanted), a favour.
GROUNDS = {
    SuggestionKind.RECONNECT: ("meetings",),
    SuggestionKind.INTRODUCTION: ("mutual",),
    SuggestionKind.EVENT: ("contacts", "targets", "topic_hits", "companions", "city_fit"),
    SuggestionKind.GIVE_BACK: ("received",),
}


def grounded(candidate: Candidate) -> bool:
    """At least one of the candidate's reasons rests on the owner's own data."""
    if candidate.kind is SuggestionKind.INTRODUCTION and candidate.introducer_id is None:
        return False
    known = {**candidate.features, **candidate.context}
    return any(known.get(fact, 0.0) > 0 for fact in GROUNDS[candidate.kind])


def worth_saying(candidates: Sequence[Candidate], snapshot: Snapshot) -> list[Candidate]:
    """Grounded candidates, each event once: entries with the same title on the same day are
    one event (a calendar and a feed both list it, or a feed lists it twice)."""
    out, seen = [], set()
    for candidate in sorted(candidates, key=lambda c: c.subject_id):
        if not grounded(candidate):
            continue
        if candidate.kind is SuggestionKind.EVENT:
            event = snapshot.events[candidate.subject_id]
            same = (" ".join(event.title.casefold().split()), event.starts_at.date())
            if same in seen:
                continue
            seen.add(same)
        out.append(candidate)
    return out


def rerank(
    candidates: Sequence[Candidate], scores: Sequence[float], *, limit: int, max_per_company: int
) -> list[tuple[Candidate, float]]:
    """Highest score first (ties by name, for stable output); diversity by company."""
    order = sorted(
        zip(candidates, scores, strict=True),
        key=lambda pair: (-pair[1], pair[0].subject_name, pair[0].subject_id),
    )
    per_company: Counter[str] = Counter()
    chosen: list[tuple[Candidate, float]] = []
    for candidate, score in order:
        company = (candidate.company or "").casefold()
        if company and per_company[company] >= max_per_company:
            continue
        per_company[company] += 1
        chosen.append((candidate, score))
        if len(chosen) == limit:
            break
    return chosen
