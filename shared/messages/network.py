"""Canonical network updates: what ingest made of the raw input.

Every change is an idempotent upsert (or removal) keyed by stable ids, so a replay
changes nothing twice. A message carries one owner's changes from one batch of inputs,
in the order they apply (``NetworkChanges``): a person, meeting or attendance is a few
hundred bytes, and per record the producer, the broker and the consumer cost more than
that.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shared.messages.envelope import Id, Message, Moment, Name, ShortText


class PersonChanged(Message):
    """A person of the owner's network, as ingest resolved them."""

    TYPE = "springboard.network.person-changed"

    change: Literal["person"] = "person"
    person_id: Id = Field(description="Stable id within the owner.", examples=["p-3f1c2a"])
    full_name: Name = Field(description="Display name.", examples=["Anna Berg"])
    company: Name | None = Field(None, description="Normalised employer.", examples=["Nordbank"])
    title: Name | None = Field(None, description="Job title as given.", examples=["Ekonomichef"])
    function: Name | None = Field(None, description="Normalised function.", examples=["CFO"])
    seniority: Name | None = Field(
        None, description="executive, director, manager or staff.", examples=["executive"]
    )
    industry: Name | None = Field(None, description="Normalised industry.", examples=["fintech"])
    city: Name | None = Field(None, description="City.", examples=["Stockholm"])
    is_contact: bool = Field(
        description="Known directly (address book, CRM, meetings), not only seen on a list.",
        examples=[True],
    )
    is_customer: bool = Field(False, description="A customer of the owner.", examples=[False])
    is_self: bool = Field(False, description="The owner themself.", examples=[False])
    introduced_by: Id | None = Field(
        None, description="Person id of who introduced them.", examples=["p-77ab01"]
    )


class InteractionRecorded(Message):
    """A meeting that took place (or will) between the owner and people."""

    TYPE = "springboard.network.interaction-recorded"

    change: Literal["interaction"] = "interaction"
    interaction_id: Id = Field(description="Stable id.", examples=["i-09ab"])
    occurred_at: Moment = Field(description="When it started.", examples=["2026-03-12T09:00:00Z"])
    person_ids: list[Id] = Field(
        max_length=1000,
        description="Everyone present, the owner included.",
        examples=[["p-self", "p-3f1c2a"]],
    )
    organizer_id: Id | None = Field(
        None, description="Who took the initiative.", examples=["p-self"]
    )
    cancelled: bool = Field(
        False, description="Cancelled or declined: no longer an interaction.", examples=[False]
    )


class EventChanged(Message):
    """A public event."""

    TYPE = "springboard.network.event-changed"

    change: Literal["event"] = "event"
    event_id: Id = Field(description="Stable id.", examples=["e-51d0"])
    title: ShortText = Field(description="Title.", examples=["Fintech Breakfast Stockholm"])
    starts_at: Moment = Field(description="Start.", examples=["2026-12-03T07:30:00+01:00"])
    city: Name | None = Field(None, description="City.", examples=["Stockholm"])
    topics: list[Name] = Field(
        max_length=50,
        default_factory=list,
        description="Lower-case topics.",
        examples=[["fintech"]],
    )
    series: Name | None = Field(None, description="Series.", examples=["Fintech Breakfast"])


class AttendanceChanged(Message):
    """A person's registration for, or presence at, an event."""

    TYPE = "springboard.network.attendance-changed"

    change: Literal["attendance"] = "attendance"
    event_id: Id = Field(description="The event.", examples=["e-51d0"])
    person_id: Id = Field(description="The person.", examples=["p-3f1c2a"])
    status: Literal["registered", "attended", "cancelled"] = Field(
        description="State.", examples=["registered"]
    )


class GoalsChanged(Message):
    """The owner's goals, normalised."""

    TYPE = "springboard.network.goals-changed"

    change: Literal["goals"] = "goals"
    home_city: Name | None = Field(
        None, description="Where the owner lives.", examples=["Stockholm"]
    )
    industries: list[Name] = Field(
        max_length=50,
        default_factory=list,
        description="Target industries.",
        examples=[["fintech"]],
    )
    functions: list[Name] = Field(
        max_length=50, default_factory=list, description="Target functions.", examples=[["CFO"]]
    )
    cities: list[Name] = Field(
        max_length=50, default_factory=list, description="Target cities.", examples=[["Stockholm"]]
    )
    interests: list[Name] = Field(
        max_length=50, default_factory=list, description="Topics.", examples=[["payments"]]
    )


class FavourChanged(Message):
    """A favour given to or received from a person."""

    TYPE = "springboard.network.favour-changed"

    change: Literal["favour"] = "favour"
    favour_id: Id = Field(description="Stable id.", examples=["f-1a"])
    person_id: Id = Field(description="The other party.", examples=["p-77ab01"])
    direction: Literal["given", "received"] = Field(description="Direction.", examples=["received"])
    kind: Name = Field(
        description="referral, introduction, help or recommendation.", examples=["referral"]
    )
    occurred_at: Moment = Field(description="When.", examples=["2026-05-04T12:00:00Z"])


class PersonErased(Message):
    """A person removed from the owner's network."""

    TYPE = "springboard.network.person-erased"

    change: Literal["person-erased"] = "person-erased"
    person_id: Id = Field(description="The erased person.", examples=["p-3f1c2a"])
    requested: bool = Field(
        False,
        description="Erased on the owner's request (not merged into another record).",
        examples=[True],
    )


class OwnerErased(Message):
    """Everything of the owner removed."""

    TYPE = "springboard.network.owner-erased"

    change: Literal["owner-erased"] = "owner-erased"


NetworkChange = Annotated[
    PersonChanged
    | InteractionRecorded
    | EventChanged
    | AttendanceChanged
    | GoalsChanged
    | FavourChanged
    | PersonErased
    | OwnerErased,
    Field(discriminator="change"),
]


ErasureChange = Annotated[PersonErased | OwnerErased, Field(discriminator="change")]

CHANGES_PER_MESSAGE = 100
"""Most changes one ``NetworkChanges`` carries: about 40 KB at a few hundred bytes each."""


class NetworkChanges(Message):
    """Changes to one owner's network, in the order they apply.

    An erasure travels alone, in a message whose correlation id is the erase request's."""

    TYPE = "springboard.network.changes"

    changes: list[NetworkChange] = Field(
        min_length=1, max_length=CHANGES_PER_MESSAGE, description="The changes, oldest first."
    )

    def halves(self) -> tuple[NetworkChanges, NetworkChanges] | None:
        """The changes in two messages, in order (for one too large for a record)."""
        if len(self.changes) < 2:
            return None
        middle = len(self.changes) // 2
        return (
            NetworkChanges(changes=self.changes[:middle]),
            NetworkChanges(changes=self.changes[middle:]),
        )


def changes_in(data: object) -> list[object]:
    """The changes a message body carries: a pack's, or the body itself (the erasures topic
    carries one change per message)."""
    if isinstance(data, NetworkChanges):
        return list(data.changes)
    return [data]


class ErasureConfirmed(Message):
    """A service's confirmation that an erase request is carried out in its stores."""

    TYPE = "springboard.erasure.confirmed"

    service: Name = Field(description="ingest, recommender or notifier.", examples=["notifier"])
    request_id: Id = Field(
        description="The erase request's message id.",
        examples=["5f0c1b9e-8a1e-4a8f-9a51-7d2b8f3c9e10"],
    )
    scope: Literal["person", "owner"] = Field(description="What was erased.", examples=["person"])
    person_ids: list[Id] = Field(
        max_length=1000,
        default_factory=list,
        description="Who (for a person).",
        examples=[["p-3f1c2a"]],
    )
