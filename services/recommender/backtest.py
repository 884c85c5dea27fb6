"""Labels from the history itself: rank as of past cut-offs, label by what happened next.

``as_of`` rebuilds what was known at a past moment (no interaction, favour or own
attendance after it); the labels are what the owner did in the horizon that followed:
met the contact (reconnect), met the person for the first time (introduction), attended
the event (event), did the person a favour (give_back).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from services.recommender import features as f
from services.recommender import prior
from services.recommender.candidates import Candidate, all_candidates
from services.recommender.snapshot import Person, Snapshot
from shared.messages.recommendations import SuggestionKind

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
    return (*prior.FEATURES[kind], *EXTRA[kind])


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
        *(candidate.features[n] for n in prior.FEATURES[candidate.kind]),
        *(extra[n] for n in EXTRA[candidate.kind]),
    ]


def matrix(found: list[Candidate]) -> np.ndarray:
    return np.array([vector(c) for c in found], dtype=float)


def _people_as_of(snapshot: Snapshot, moment: datetime) -> dict[str, Person]:
    """The people as they stood at ``moment``: someone first met after it was no contact
    yet (a contact is dated by their first meeting; one never met, a CRM record alone, is
    taken to have always been one), so that meeting them later counts as an introduction."""
    out = {}
    for pid, person in snapshot.people.items():
        met = snapshot.interactions_with(pid)  # oldest first
        if person.is_contact and not person.is_self and met and met[0].at > moment:
            person = replace(person, is_contact=False)
        out[pid] = person
    return out


def as_of(snapshot: Snapshot, moment: datetime) -> Snapshot:
    """What was known at ``moment``: nothing that happened after it."""
    own = snapshot.self_ids
    attendance = {}
    for event_id, people in snapshot.attendance.items():
        event = snapshot.events.get(event_id)
        later = event is not None and event.starts_at > moment
        attendance[event_id] = {
            pid: ("registered" if later else status)
            for pid, status in people.items()
            if not (later and pid in own)  # the owner's own presence is the outcome
        }
    return replace(
        snapshot,
        now=moment,
        people=_people_as_of(snapshot, moment),
        interactions=[i for i in snapshot.interactions if i.at <= moment],
        favours=[f for f in snapshot.favours if f.at <= moment],
        attendance=attendance,
        suppressed=frozenset(),
        _by_person={},
        _ages={},
    )


def outcomes(snapshot: Snapshot, start: datetime, end: datetime) -> dict[SuggestionKind, set[str]]:
    """What the owner did in (start, end]."""
    own = snapshot.self_ids
    met = {p for i in snapshot.interactions if start < i.at <= end for p in i.person_ids} - own
    contacts_then = {p for i in snapshot.interactions if i.at <= start for p in i.person_ids}
    contacts_then |= {p.id for p in _people_as_of(snapshot, start).values() if p.is_contact}
    attended = {
        e
        for e, people in snapshot.attendance.items()
        if e in snapshot.events
        and start < snapshot.events[e].starts_at <= end
        and any(pid in own for pid in people)
    }
    helped = {
        f.person_id for f in snapshot.favours if f.direction == "given" and start < f.at <= end
    }
    return {
        SuggestionKind.RECONNECT: met & contacts_then,
        SuggestionKind.INTRODUCTION: met - contacts_then,
        SuggestionKind.EVENT: attended,
        SuggestionKind.GIVE_BACK: helped,
    }


def rows(
    snapshots: Iterable[Snapshot],
    cutoffs: Iterable[datetime],
    horizon: timedelta,
) -> dict[SuggestionKind, tuple[np.ndarray, np.ndarray, list[tuple[str, datetime]], list[str]]]:
    """Per kind: features, labels, the (owner, cut-off) group of each row, and subject ids."""
    out: dict[SuggestionKind, list[tuple[list[float], int, tuple[str, datetime], str]]] = {
        kind: [] for kind in SuggestionKind
    }
    cutoffs = sorted(cutoffs)
    for snapshot in snapshots:
        for moment in cutoffs:
            past = as_of(snapshot, moment)
            happened = outcomes(snapshot, moment, moment + horizon)
            for kind, found in all_candidates(past).items():
                for candidate in found:
                    label = int(candidate.subject_id in happened[kind])
                    out[kind].append(
                        (
                            vector(candidate),
                            label,
                            (snapshot.owner_id, moment),
                            candidate.subject_id,
                        )
                    )
    result = {}
    for kind, items in out.items():
        width = len(feature_names(kind))
        result[kind] = (
            np.array([x for x, _, _, _ in items], dtype=float).reshape(-1, width),
            np.array([y for _, y, _, _ in items], dtype=int),
            [g for _, _, g, _ in items],
            [s for _, _, _, s in items],
        )
    return result


POSITIVE = {"accepted", "done"}
NEGATIVE = {"dismissed"}


def feedback_rows(
    snapshot: Snapshot,
    judged: Iterable[tuple[str, str, datetime, str]],
) -> dict[SuggestionKind, tuple[list[list[float]], list[int]]]:
    """Rows from the owner's answers: the suggestion's features when it was issued, labelled
    1 if accepted or done and 0 if dismissed (a snooze says nothing)."""
    out: dict[SuggestionKind, tuple[list[list[float]], list[int]]] = {
        kind: ([], []) for kind in SuggestionKind
    }
    for kind_name, subject_id, issued_at, action in judged:
        if action not in POSITIVE | NEGATIVE:
            continue
        kind = SuggestionKind(kind_name)
        found = all_candidates(as_of(snapshot, issued_at))[kind]
        match = next((c for c in found if c.subject_id == subject_id), None)
        if match is not None:
            out[kind][0].append(vector(match))
            out[kind][1].append(int(action in POSITIVE))
    return out
