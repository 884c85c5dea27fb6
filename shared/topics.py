"""Every topic name, with its version suffix. No topic literal lives anywhere else.

Raw input topics carry what producers send (calendars, CRMs, importers, the feedback
links); ``NETWORK_UPDATES`` carries ingest's canonical changes; ``RECOMMENDATIONS`` the
recommender's ranked lists; ``SUGGESTIONS`` what the notifier published to the user.
"""

from __future__ import annotations

CONTACTS = "springboard.contacts.v1"
MEETINGS = "springboard.meetings.v1"
EVENTS = "springboard.events.v1"
ATTENDANCE = "springboard.attendance.v1"
GOALS = "springboard.goals.v1"
FAVOURS = "springboard.favours.v1"
FEEDBACK = "springboard.feedback.v1"
ERASURE = "springboard.erasure.v1"
IDENTITY = "springboard.identity.v1"
PREFERENCES = "springboard.preferences.v1"

NETWORK_UPDATES = "springboard.network-updates.v2"
RECOMMENDATIONS = "springboard.recommendations.v1"
SUGGESTIONS = "springboard.suggestions.v1"
ERASURES = "springboard.erasures.v1"
"""Erasures ingest carried out on an owner's request, for the services that keep copies."""
ERASURE_CONFIRMATIONS = "springboard.erasure-confirmations.v1"
"""Each service's word that an erasure is done in its stores."""

INPUTS: tuple[str, ...] = (
    CONTACTS,
    MEETINGS,
    EVENTS,
    ATTENDANCE,
    GOALS,
    FAVOURS,
    ERASURE,
    IDENTITY,
)
"""Raw input topics that ingest consumes (feedback goes to the recommender directly)."""

DEAD_LETTER_SUFFIX = ".dead-letter"


def dead_letter(topic: str) -> str:
    """The dead-letter topic of ``topic``.

    ``springboard.contacts.v1`` -> ``springboard.contacts.dead-letter.v1``.
    """
    stem, _, version = topic.rpartition(".")
    return f"{stem}{DEAD_LETTER_SUFFIX}.{version}"


def is_dead_letter(topic: str) -> bool:
    """Whether ``topic`` (prefixed or not) is a dead-letter topic."""
    return f"{DEAD_LETTER_SUFFIX}." in topic


def consumed() -> tuple[str, ...]:
    """Every topic some service consumes."""
    return (*INPUTS, FEEDBACK, PREFERENCES, NETWORK_UPDATES, RECOMMENDATIONS, ERASURES)


def all_topics() -> tuple[str, ...]:
    """Every topic the system uses, dead-letter topics included, for creation up front."""
    main = (*consumed(), SUGGESTIONS, ERASURE_CONFIRMATIONS)
    return (*main, *(dead_letter(t) for t in (*consumed(), SUGGESTIONS)))
