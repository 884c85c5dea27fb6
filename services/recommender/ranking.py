"""What is worth saying (a grounded reason, evidence above the floor), then re-ranking:
best first within a kind, at most a few per company, a bounded list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from services.recommender.candidates import Candidate
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import SuggestionKind

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
