"""An owner's network as the model sees it: plain immutable data, no database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_HORIZON = timedelta(days=30)
"""How far ahead suggestions look unless the recommender is told otherwise."""


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    full_name: str
    company: str | None = None
    function: str | None = None
    seniority: str | None = None
    industry: str | None = None
    city: str | None = None
    is_contact: bool = False
    is_customer: bool = False
    is_self: bool = False
    introduced_by: str | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    id: str
    at: datetime
    person_ids: frozenset[str]
    organizer_id: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    title: str
    starts_at: datetime
    city: str | None = None
    topics: tuple[str, ...] = ()
    series: str | None = None


@dataclass(frozen=True, slots=True)
class Favour:
    person_id: str
    direction: str
    kind: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Goals:
    home_city: str | None = None
    industries: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Snapshot:
    """Everything known about one owner's network at ``now``."""

    owner_id: str
    now: datetime
    people: dict[str, Person]
    interactions: list[Interaction]
    events: dict[str, Event]
    attendance: dict[str, dict[str, str]]  # event id -> person id -> status
    favours: list[Favour]
    goals: Goals = Goals()
    suppressed: frozenset[str] = frozenset()  # subjects dismissed or snoozed lately
    horizon: timedelta = DEFAULT_HORIZON
    """How far ahead a suggestion looks: every time scale of the features is a multiple of it."""
    _by_person: dict[str, list[Interaction]] = field(default_factory=dict, repr=False)
    _ages: dict[tuple[object, ...], list[float]] = field(default_factory=dict, repr=False)
    """How long ago each meeting with a person was, in horizons: every kind's features
    need them (``features.contact_ages``). A copy with other meetings needs ``_ages={}``."""

    def __post_init__(self) -> None:
        by_person: dict[str, list[Interaction]] = defaultdict(list)
        for interaction in sorted(self.interactions, key=lambda i: i.at):
            for person_id in interaction.person_ids:
                by_person[person_id].append(interaction)
        self._by_person.update(by_person)

    @property
    def self_ids(self) -> frozenset[str]:
        return frozenset(p.person_id for p in self.people.values() if p.is_self)

    def interactions_with(self, person_id: str) -> list[Interaction]:
        """Interactions with this person, oldest first, past and planned."""
        return self._by_person.get(person_id, [])

    def contacts(self) -> list[Person]:
        return [p for p in self.people.values() if p.is_contact and not p.is_self]

    def registered(self, event_id: str) -> set[str]:
        return {
            pid
            for pid, status in self.attendance.get(event_id, {}).items()
            if status in ("registered", "attended")
        }
