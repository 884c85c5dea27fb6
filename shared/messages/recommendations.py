"""The recommender's ranked lists, and the suggestions the notifier publishes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from shared.messages.envelope import Id, Message, Moment, Name, ShortText


class SuggestionKind(StrEnum):
    RECONNECT = "reconnect"
    INTRODUCTION = "introduction"
    EVENT = "event"
    GIVE_BACK = "give_back"


class RankedItem(Message):
    """One candidate with its score, rank and reasons."""

    suggestion_id: Id = Field(
        description="Stable id: the same suggestion keeps it across re-scoring.",
        examples=["0b6d5c3e-1c55-5b7a-9f3e-2a9c1d0e4f11"],
    )
    kind: SuggestionKind = Field(description="What is suggested.", examples=["reconnect"])
    subject_id: Id = Field(description="The person or event suggested.", examples=["p-3f1c2a"])
    subject_name: Name = Field(
        description="Their name or the event's title.", examples=["Anna Berg"]
    )
    introducer_id: Id | None = Field(
        None, description="Who can introduce (introductions only).", examples=["p-77ab01"]
    )
    introducer_name: Name | None = Field(None, description="Their name.", examples=["Erik Nilsson"])
    score: float = Field(ge=0.0, le=1.0, description="Model score in [0, 1].", examples=[0.82])
    rank: int = Field(ge=1, description="Rank within its kind, 1 is best.", examples=[1])
    reasons: list[ShortText] = Field(
        min_length=1,
        max_length=3,
        description="Plain-language reasons, strongest first.",
        examples=[["Last met 94 days ago; you usually meet every ~30 days."]],
    )


Counts = Annotated[dict[Name, Annotated[int, Field(ge=0)]], Field(max_length=50)]


class NetworkSummary(Message):
    """The owner's network in counts, set against their goals: the network map's data."""

    contacts: int = Field(ge=0, description="People in the network.", examples=[142])
    ties: Counts = Field(
        description="Contacts by tie strength: strong, good, light, dormant.",
        examples=[{"strong": 12, "good": 30, "light": 60, "dormant": 40}],
    )
    industries: Counts = Field(description="Most common industries.", examples=[{"fintech": 9}])
    functions: Counts = Field(description="Most common functions.", examples=[{"CFO": 3}])
    seniority: Counts = Field(description="Contacts by seniority.", examples=[{"senior": 20}])
    cities: Counts = Field(description="Most common cities.", examples=[{"Stockholm": 40}])
    strong_by_city: Counts = Field(
        description="Where the strong ties are.", examples=[{"Stockholm": 7}]
    )
    targets: Counts = Field(
        description="Each goal (a function in a city, an industry) and how many contacts fit.",
        examples=[{"CFOs in Stockholm": 0}],
    )
    gaps: list[ShortText] = Field(
        max_length=50,
        description="Goals with fewer than three contacts, said plainly.",
        examples=[["0 CFOs in Stockholm"]],
    )


class RecommendationsMade(Message):
    """The recommender's current ranked lists for one owner."""

    TYPE = "springboard.recommendations.made"

    model_version: Name = Field(description="Model that scored them.", examples=["prior-3"])
    generated_at: Moment = Field(
        description="When they were scored.", examples=["2026-11-28T09:00:00Z"]
    )
    oldest_input_at: Moment | None = Field(
        None,
        description="The oldest input first reflected in this list (for end-to-end latency).",
        examples=["2026-11-28T08:59:58Z"],
    )
    items: list[RankedItem] = Field(max_length=1000, description="Ranked candidates of every kind.")
    network: NetworkSummary | None = Field(
        None, description="The owner's network map as it stood when these were scored."
    )


class SuggestionMade(Message):
    """A suggestion published to the owner."""

    TYPE = "springboard.suggestion.made"

    suggestion_id: Id = Field(
        description="Stable id.", examples=["0b6d5c3e-1c55-5b7a-9f3e-2a9c1d0e4f11"]
    )
    kind: SuggestionKind = Field(description="What is suggested.", examples=["introduction"])
    headline: ShortText = Field(
        description="One line for the user.",
        examples=["Ask Erik Nilsson to introduce you to Sara Ek"],
    )
    subject_id: Id = Field(description="The person or event.", examples=["p-3f1c2a"])
    subject_name: Name = Field(description="Their name or title.", examples=["Sara Ek"])
    introducer_name: Name | None = Field(
        None, description="Who can introduce.", examples=["Erik Nilsson"]
    )
    score: float = Field(ge=0.0, le=1.0, description="Model score.", examples=[0.74])
    rank: int = Field(
        ge=1, description="Position in this owner's current suggestions.", examples=[1]
    )
    reasons: list[ShortText] = Field(
        min_length=1, max_length=3, description="Why.", examples=[["3 mutual contacts."]]
    )
    model_version: Name = Field(description="Model that scored it.", examples=["prior-3"])
