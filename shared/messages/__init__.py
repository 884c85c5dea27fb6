"""Every message type, and which one each topic carries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from shared import topics
from shared.messages.dead_letters import DeadLettered
from shared.messages.envelope import Envelope, Message, wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    ContactUpserted,
    EraseOwner,
    ErasePerson,
    EraseRequest,
    EventAnnounced,
    FavourRecorded,
    FeedbackGiven,
    GoalsSet,
    MeetingRecorded,
    PreferencesSet,
    UndoMerge,
)
from shared.messages.network import ErasureChange, ErasureConfirmed, NetworkChanges
from shared.messages.recommendations import NetworkSummary, RecommendationsMade, SuggestionMade

TOPIC_PAYLOADS: dict[str, Any] = {
    topics.CONTACTS: ContactUpserted,
    topics.MEETINGS: MeetingRecorded,
    topics.EVENTS: EventAnnounced,
    topics.ATTENDANCE: AttendanceRecorded,
    topics.GOALS: GoalsSet,
    topics.FAVOURS: FavourRecorded,
    topics.FEEDBACK: FeedbackGiven,
    topics.ERASURE: EraseRequest,
    topics.IDENTITY: UndoMerge,
    topics.PREFERENCES: PreferencesSet,
    topics.NETWORK_UPDATES: NetworkChanges,
    topics.RECOMMENDATIONS: RecommendationsMade,
    topics.SUGGESTIONS: SuggestionMade,
    topics.ERASURES: ErasureChange,
    topics.ERASURE_CONFIRMATIONS: ErasureConfirmed,
}
"""The data type each topic carries (dead-letter topics carry ``DeadLettered``)."""


def _types_to_topics() -> dict[str, str]:
    out: dict[str, str] = {}
    for topic in topics.INPUTS:
        payload = TOPIC_PAYLOADS[topic]
        members = getattr(payload, "__args__", None)
        classes = members[0].__args__ if members and hasattr(members[0], "__args__") else [payload]
        for cls in classes:
            out[cls.TYPE] = topic
    return out


TYPE_TOPICS = _types_to_topics()
"""The input topic of each input's ``type`` (``ContactUpserted`` -> contacts): where a
webhook's item or a line of an offline replay goes."""

_ADAPTERS: dict[str, TypeAdapter[Envelope[Any]]] = {
    topic: TypeAdapter(Envelope[payload])  # type: ignore[valid-type]
    for topic, payload in TOPIC_PAYLOADS.items()
}


def envelope_adapter(topic: str) -> TypeAdapter[Envelope[Any]]:
    """The validator of the envelopes on ``topic`` (its base name, without prefix)."""
    return _ADAPTERS[topic]


def encode(envelope: BaseModel) -> bytes:
    return envelope.model_dump_json().encode()


__all__ = [
    "TOPIC_PAYLOADS",
    "TYPE_TOPICS",
    "AttendanceRecorded",
    "ContactUpserted",
    "DeadLettered",
    "Envelope",
    "EraseOwner",
    "ErasePerson",
    "EventAnnounced",
    "FavourRecorded",
    "FeedbackGiven",
    "GoalsSet",
    "MeetingRecorded",
    "Message",
    "NetworkSummary",
    "PreferencesSet",
    "RecommendationsMade",
    "SuggestionMade",
    "UndoMerge",
    "encode",
    "envelope_adapter",
    "wrap",
]
