"""Re-ranking: best first within a kind, at most a few per company, a bounded list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from services.recommender.candidates import Candidate


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
