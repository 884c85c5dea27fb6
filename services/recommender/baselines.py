"""Simple rankers the model must beat, each scoring the same candidates the model scores."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from services.recommender import features as f
from services.recommender.candidates import Candidate
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import SuggestionKind

Scorer = Callable[[Snapshot, list[Candidate]], list[float]]


def _random(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    rng = random.Random(f"{snapshot.owner_id}|{snapshot.now.isoformat()}")
    return [rng.random() for _ in found]


def _last_met(snapshot: Snapshot, candidate: Candidate) -> float:
    times = f.past_meetings(snapshot, candidate.subject_id)
    return times[-1].timestamp() if times else 0.0


def _most_recent(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    if found and found[0].kind is SuggestionKind.EVENT:  # the soonest event first
        return [-snapshot.events[c.subject_id].starts_at.timestamp() for c in found]
    return [_last_met(snapshot, c) for c in found]


def _most_frequent(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    if found and found[0].kind is SuggestionKind.EVENT:  # the most registrations first
        return [float(len(snapshot.registered(c.subject_id))) for c in found]
    return [float(len(f.past_meetings(snapshot, c.subject_id))) for c in found]


def _most_overdue(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    out = []
    for candidate in found:
        times = f.past_meetings(snapshot, candidate.subject_id)
        if not times:
            out.append(0.0)
            continue
        gap = f.usual_gap(snapshot, times) or f.DEFAULT_CADENCE
        out.append(f.horizons(snapshot, times[-1], snapshot.now) / gap)
    return out


def _neighbours(snapshot: Snapshot) -> dict[str, set[str]]:
    """Who knows whom: co-attendance and same company."""
    together = f.co_attendees(snapshot)
    by_company: dict[str, set[str]] = {}
    for person in snapshot.people.values():
        if person.company:
            by_company.setdefault(person.company.casefold(), set()).add(person.person_id)
    graph = {pid: set(others) for pid, others in together.items()}
    for members in by_company.values():
        for pid in members:
            graph.setdefault(pid, set()).update(members - {pid})
    return graph


def _common_neighbours(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    graph = _neighbours(snapshot)
    contacts = {c.person_id for c in snapshot.contacts()}
    return [float(len(graph.get(c.subject_id, set()) & contacts)) for c in found]


def _adamic_adar(snapshot: Snapshot, found: list[Candidate]) -> list[float]:
    graph = _neighbours(snapshot)
    contacts = {c.person_id for c in snapshot.contacts()}
    return [
        sum(
            1.0 / math.log(max(len(graph.get(m, ())), 2))
            for m in graph.get(c.subject_id, set()) & contacts
        )
        for c in found
    ]


BASELINES: dict[str, Scorer] = {
    "random": _random,
    "most_recent": _most_recent,
    "most_frequent": _most_frequent,
    "most_overdue": _most_overdue,
}
INTRODUCTION_BASELINES: dict[str, Scorer] = {
    "common_neighbours": _common_neighbours,
    "adamic_adar": _adamic_adar,
}


def for_kind(kind: SuggestionKind) -> dict[str, Scorer]:
    baselines = dict(BASELINES)
    if kind is SuggestionKind.INTRODUCTION:
        baselines.update(INTRODUCTION_BASELINES)
    if kind is SuggestionKind.EVENT:
        baselines.pop("most_overdue")  # events are not overdue
    return baselines
