"""Labels from the history itself: rank as of past cut-offs, label by what happened next.

``as_of`` rebuilds what was known at a past moment (no interaction, favour or own
attendance after it); the labels are what the owner did in the horizon that followed:
met the contact (reconnect), met the person for the first time (introduction), attended
the event (event), did the person a favour (give_back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from services.recommender.candidates import all_candidates
from services.recommender.rankers import feature_names, vector
from services.recommender.snapshot import Person, Snapshot
from shared.messages.recommendations import SuggestionKind


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
    contacts_then |= {p.person_id for p in _people_as_of(snapshot, start).values() if p.is_contact}
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
