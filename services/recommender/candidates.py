"""Candidates of every kind for one owner, each with its features and the facts behind them."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from services.recommender import features as f
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import SuggestionKind

NAMESPACE = uuid.UUID("0f3a8f5e-5b7c-4c1e-a7a4-5cf1e1a3d2b9")
EVENT_LOOKAHEAD = 3.0
"""Events are suggested up to three horizons ahead (90 days at a 30-day horizon)."""


@dataclass(frozen=True)
class Candidate:
    kind: SuggestionKind
    subject_id: str
    subject_name: str
    features: dict[str, float]
    context: dict[str, float] = field(default_factory=dict)
    company: str | None = None
    introducer_id: str | None = None
    introducer_name: str | None = None
    episode: str = ""
    """What makes this suggestion new: after the next meeting, 'reconnect' is a new one."""

    def suggestion_id(self, owner_id: str) -> str:
        key = "|".join((owner_id, self.kind.value, self.subject_id, self.episode))
        return str(uuid.uuid5(NAMESPACE, key))


def reconnect(snapshot: Snapshot) -> list[Candidate]:
    out = []
    for person in snapshot.contacts():
        # Every contact met before and not already planned: whoever is likeliest to be met
        # again (a colleague seen yesterday included) is for the model to say.
        result = f.reconnect_features(snapshot, person)
        if result is None:
            continue
        features, context = result
        last = f.past_meetings(snapshot, person.person_id)[-1]
        out.append(
            Candidate(
                SuggestionKind.RECONNECT,
                person.person_id,
                person.full_name,
                features,
                context,
                company=person.company,
                episode=last.date().isoformat(),
            )
        )
    return out


def introduction(snapshot: Snapshot) -> list[Candidate]:
    links = f.Links.of(snapshot)
    out = []
    for person in snapshot.people.values():
        if person.is_contact or person.is_self:
            continue
        result = f.introduction_features(snapshot, person, links)
        if result is None:
            continue
        features, context, introducer = result
        out.append(
            Candidate(
                SuggestionKind.INTRODUCTION,
                person.person_id,
                person.full_name,
                features,
                context,
                company=person.company,
                introducer_id=introducer.person_id,
                introducer_name=introducer.full_name,
            )
        )
    return out


def event(snapshot: Snapshot) -> list[Candidate]:
    own = snapshot.self_ids
    went_with, ties = f.companions(snapshot), f.contact_ties(snapshot)
    out = []
    for item in snapshot.events.values():
        if not 0 < f.horizons(snapshot, snapshot.now, item.starts_at) <= EVENT_LOOKAHEAD:
            continue
        if own & snapshot.registered(item.id):
            continue  # already going
        features, context = f.event_features(snapshot, item, went_with, ties)
        out.append(
            Candidate(
                SuggestionKind.EVENT,
                item.id,
                item.title,
                features,
                context,
                company=item.series,
                episode=item.starts_at.date().isoformat(),
            )
        )
    return out


def give_back(snapshot: Snapshot) -> list[Candidate]:
    out = []
    for person in snapshot.contacts():
        result = f.give_back_features(snapshot, person)
        if result is None:
            continue
        features, context = result
        kinds = Counter(
            x.kind
            for x in snapshot.favours
            if x.person_id == person.person_id and x.direction == "received"
        )
        context = {**context, **{f"kind:{k}": float(n) for k, n in kinds.items()}}
        out.append(
            Candidate(
                SuggestionKind.GIVE_BACK,
                person.person_id,
                person.full_name,
                features,
                context,
                company=person.company,
                episode=str(int(context["received"])),
            )
        )
    return out


GENERATORS = {
    SuggestionKind.RECONNECT: reconnect,
    SuggestionKind.INTRODUCTION: introduction,
    SuggestionKind.EVENT: event,
    SuggestionKind.GIVE_BACK: give_back,
}


def all_candidates(snapshot: Snapshot) -> dict[SuggestionKind, list[Candidate]]:
    """Candidates per kind, leaving out subjects the owner dismissed or snoozed lately."""
    return {
        kind: [c for c in generate(snapshot) if c.subject_id not in snapshot.suppressed]
        for kind, generate in GENERATORS.items()
    }
