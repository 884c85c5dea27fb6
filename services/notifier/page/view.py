"""What the owner's page shows, read from the notifier's own store: this week's
suggestions with the owner's answers, the network map kept from the latest ranked list,
goals and preferences as last set. Everything is for one owner: the session's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.notifier import store
from services.notifier.models import NotifySuggestion
from services.notifier.page import forms
from shared.clock import as_utc
from shared.unit_of_work import UnitOfWork

KIND_LABELS = {
    "reconnect": "Reconnect",
    "introduction": "Get introduced",
    "event": "Go to",
    "give_back": "Give back",
}
ACTION_WORDS = {
    "accepted": "Accepted",
    "done": "Done",
    "snoozed": "Snoozed",
    "dismissed": "Dismissed",
}
SINGULAR = {
    "contacts": "contact",
    "meetings": "meeting",
    "events": "event",
    "attendance": "attendance",
}
TIE_WORDS = {
    "strong": "Strong ties",
    "good": "Good ties",
    "light": "Light ties",
    "dormant": "Dormant",
}


@dataclass
class Card:
    suggestion_id: str
    kind: str
    label: str
    headline: str
    reasons: list[str]
    score: float
    answer: str | None

    @property
    def open(self) -> bool:
        return self.answer is None


@dataclass
class Bar:
    label: str
    count: int
    share: float
    """Of the longest bar in its chart, 0..1 (the drawn width)."""
    short: bool = False
    """A goal with fewer than three contacts: a gap."""


@dataclass
class Chart:
    title: str
    bars: list[Bar]


@dataclass
class NetworkView:
    contacts: int
    charts: list[Chart]
    goals: Chart
    gaps: list[str]
    strongest_in: list[str]
    at: datetime | None


@dataclass
class Page:
    owner_id: str
    name: str
    cards: list[Card] = field(default_factory=list)
    network: NetworkView | None = None
    goals: dict[str, str] = field(default_factory=dict)
    preferences: dict[str, str] = field(default_factory=dict)
    webhook: bool = False

    @property
    def open_cards(self) -> list[Card]:
        return [c for c in self.cards if c.open]

    @property
    def answered_cards(self) -> list[Card]:
        return [c for c in self.cards if not c.open]


def chart(
    title: str,
    counts: dict[str, int],
    *,
    limit: int = 8,
    ordered: bool = False,
    goals: bool = False,
) -> Chart:
    """Bars longest first, or in the given order (tie bands, goals as set)."""
    items = list(counts.items())
    if not (ordered or goals):
        items.sort(key=lambda kv: -kv[1])
    items = items[:limit]
    top = max((n for _, n in items), default=0) or 1
    return Chart(title, [Bar(k, n, n / top, short=goals and n < 3) for k, n in items])


def network_view(network: dict[str, Any] | None, at: datetime | None) -> NetworkView | None:
    if not network:
        return None
    ties = {TIE_WORDS.get(k, k): v for k, v in network.get("ties", {}).items()}
    return NetworkView(
        contacts=int(network.get("contacts", 0)),
        charts=[
            chart("Tie strength", ties, limit=4, ordered=True),
            chart("Industries", network.get("industries", {})),
            chart("Functions", network.get("functions", {})),
            chart("Cities", network.get("cities", {})),
            chart("Seniority", network.get("seniority", {})),
        ],
        goals=chart("Against your goals", network.get("targets", {}), limit=50, goals=True),
        gaps=list(network.get("gaps", [])),
        strongest_in=list(network.get("strong_by_city", {}))[:3],
        at=as_utc(at) if at else None,
    )


def suggestions(session: UnitOfWork, owner_id: str) -> list[Card]:
    rows = [
        r
        for r in store.chosen_since(session, owner_id=owner_id, since=store.week_ago())
        if r.published_at
    ]
    answered = store.answers(session, owner_id=owner_id)
    cards = [
        Card(
            suggestion_id=r.suggestion_id,
            kind=r.kind,
            label=KIND_LABELS.get(r.kind, r.kind),
            headline=str(r.payload.get("headline", "")),
            reasons=list(r.payload.get("reasons", [])),
            score=float(r.payload.get("score", 0.0)),
            answer=answered[r.suggestion_id].action if r.suggestion_id in answered else None,
        )
        for r in sorted(rows, key=lambda r: (r.rank, r.suggestion_id))
    ]
    return cards


def page(session: UnitOfWork, owner_id: str) -> Page:
    owner = store.owner(session, owner_id=owner_id)
    goals = owner.goals if owner and owner.goals else None
    prefs_row = store.preferences(session, owner_id=owner_id)
    prefs = prefs_row.model_dump() if prefs_row else None
    return Page(
        owner_id=owner_id,
        name=str((goals or {}).get("full_name") or owner_id),
        cards=suggestions(session, owner_id),
        network=network_view(owner.network if owner else None, owner.network_at if owner else None),
        goals=forms.goals_values(goals),
        preferences=forms.preferences_values(prefs),
        webhook=bool(prefs and prefs.get("webhook_url")),
    )


def suggestion_of(session: UnitOfWork, owner_id: str, suggestion_id: str) -> bool:
    """Whether the suggestion was published to this owner: a session answers its own
    owner's suggestions only."""
    row = session.get(NotifySuggestion, suggestion_id)
    return row is not None and row.owner_id == owner_id and row.published_at is not None
