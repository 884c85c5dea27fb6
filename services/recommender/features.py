"""Features of candidates, computed from an owner's snapshot as of ``snapshot.now``.

Every feature is scaled to [0, 1] with a saturating transform, so a prior can weigh them
directly and a learned model sees comparable ranges. Nothing after ``now`` is used,
except what is by nature announced ahead: upcoming events, their registrations, and
meetings already planned.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable
from datetime import datetime

from services.recommender.snapshot import Event, Goals, Person, Snapshot

DAY_SECONDS = 86_400.0
DEFAULT_CADENCE_DAYS = 90.0
"""Assumed rhythm with someone met only once: a quarterly check-in."""
TIE_HALF_LIFE_DAYS = 365.0
FAVOUR_WINDOW_DAYS = 730.0
DUE_HORIZON_DAYS = 30.0
"""The window of "due": the chance of meeting within the next month."""
ALIVE_PRIOR = 0.9
"""Before any silence, the chance a tie is still active rather than lapsed for good."""
MIN_LOG_SPREAD = 0.25
"""Rhythms are never exact: at least this spread (log days) between meetings."""

RECONNECT = ("due", "overdue", "tie_strength", "goal_fit", "is_customer", "same_city")
INTRODUCTION = ("mutual_contacts", "introducer_tie", "goal_fit", "same_city")
EVENT = (
    "contacts_registered",
    "close_contacts_registered",
    "targets_registered",
    "companions",
    "city_fit",
    "topic_fit",
)
GIVE_BACK = ("balance", "recency", "tie_strength")


def days_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / DAY_SECONDS


def saturate(value: float, scale: float) -> float:
    """0 at 0, about 0.63 at ``scale``, approaching 1: diminishing returns."""
    return 1.0 - math.exp(-max(value, 0.0) / scale)


def past_meetings(snapshot: Snapshot, person_id: str) -> list[datetime]:
    return [i.at for i in snapshot.interactions_with(person_id) if i.at <= snapshot.now]


def usual_cadence_days(times: list[datetime]) -> float | None:
    """Median gap between consecutive meetings; None with fewer than three meetings."""
    if len(times) < 3:
        return None
    gaps = [days_between(a, b) for a, b in itertools.pairwise(times)]
    return max(statistics.median(gaps), 1.0)


def meeting_chance(
    times: list[datetime], now: datetime, horizon_days: float = DUE_HORIZON_DAYS
) -> tuple[float, float]:
    """(chance of meeting within ``horizon_days``, chance the tie is still active).

    The gaps between meetings follow a log-normal fitted to this contact's own history
    (a quarterly rhythm with a wide spread when there is too little of it); a tie may
    also have lapsed for good, the more likely the longer the silence runs past the usual
    gaps. This is the "alive or gone" reasoning of customer-base models (Pareto/NBD,
    BG/NBD): a contact twice as overdue as ever before is probably not about to call.
    """
    gaps = [max(days_between(a, b), 1.0) for a, b in itertools.pairwise(times)]
    logs = [math.log(g) for g in gaps]
    if len(logs) >= 2:
        mean = statistics.fmean(logs)
        # The sample standard deviation in floats (``statistics.stdev`` computes it exactly,
        # with fractions, at ten times the cost: a fifth of scoring an owner).
        spread = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
        rhythm = statistics.NormalDist(mean, max(spread, MIN_LOG_SPREAD))
    elif logs:
        rhythm = statistics.NormalDist(logs[0], 0.5)
    else:
        rhythm = statistics.NormalDist(math.log(DEFAULT_CADENCE_DAYS), 0.75)
    silence = max(days_between(times[-1], now), 0.5)

    def still_waiting(days: float) -> float:  # P(next gap > days)
        return 1.0 - rhythm.cdf(math.log(days))

    waiting, after = still_waiting(silence), still_waiting(silence + horizon_days)
    unexplained = ALIVE_PRIOR * waiting + (1.0 - ALIVE_PRIOR)
    return ALIVE_PRIOR * (waiting - after) / unexplained, ALIVE_PRIOR * waiting / unexplained


def tie_strength(times: Iterable[datetime], now: datetime) -> float:
    """Meetings, each decaying with a one-year half-life, saturating at about four recent ones."""
    weight = sum(0.5 ** (days_between(t, now) / TIE_HALF_LIFE_DAYS) for t in times if t <= now)
    return saturate(weight, 4.0)


def _folded(values: Iterable[str | None]) -> set[str]:
    return {v.casefold() for v in values if v}


def goal_fit(person: Person, goals: Goals) -> float:
    """How well a person matches the owner's goals: industry 0.4, function 0.4, city 0.2."""
    fit = 0.0
    if person.industry and person.industry.casefold() in _folded(goals.industries):
        fit += 0.4
    if person.function and person.function.casefold() in _folded(goals.functions):
        fit += 0.4
    if person.city and person.city.casefold() in _folded([*goals.cities, goals.home_city]):
        fit += 0.2
    return fit


def same_city(person: Person, goals: Goals) -> float:
    return float(
        bool(
            person.city and goals.home_city and person.city.casefold() == goals.home_city.casefold()
        )
    )


def reconnect_features(
    snapshot: Snapshot, person: Person
) -> tuple[dict[str, float], dict[str, float]] | None:
    """Features of reconnecting with a known contact, or None if there is nothing to reconnect."""
    times = past_meetings(snapshot, person.id)
    if not times:
        return None
    planned = any(i.at > snapshot.now for i in snapshot.interactions_with(person.id))
    if planned:
        return None
    days_since = days_between(times[-1], snapshot.now)
    cadence = usual_cadence_days(times)
    ratio = days_since / (cadence or DEFAULT_CADENCE_DAYS)
    due, alive = meeting_chance(times, snapshot.now)
    features = {
        "due": due,
        "overdue": min(max((ratio - 1.0) / 3.0, 0.0), 1.0),
        "tie_strength": tie_strength(times, snapshot.now),
        "goal_fit": goal_fit(person, snapshot.goals),
        "is_customer": float(person.is_customer),
        "same_city": same_city(person, snapshot.goals),
    }
    context = {
        "days_since": days_since,
        "cadence": cadence or 0.0,
        "meetings": float(len(times)),
        "overdue_ratio": ratio,
        "alive": alive,
    }
    return features, context


def co_attendees(snapshot: Snapshot) -> dict[str, set[str]]:
    """Person id -> people registered for or present at the same events."""
    together: dict[str, set[str]] = {}
    for event_id in snapshot.attendance:
        people = snapshot.registered(event_id)
        for person_id in people:
            together.setdefault(person_id, set()).update(people - {person_id})
    return together


def mutual_contacts(snapshot: Snapshot, person: Person, together: dict[str, set[str]]) -> set[str]:
    """Contacts who know this person: met at the same events, or work at the same company."""
    contact_ids = {c.id for c in snapshot.contacts()}
    mutual = together.get(person.id, set()) & contact_ids
    if person.company:
        company = person.company.casefold()
        mutual |= {
            c.id for c in snapshot.contacts() if c.company and c.company.casefold() == company
        }
    return mutual - {person.id}


def introduction_features(
    snapshot: Snapshot, person: Person, together: dict[str, set[str]]
) -> tuple[dict[str, float], dict[str, float], Person] | None:
    mutual = mutual_contacts(snapshot, person, together)
    if not mutual:
        return None
    ties = {pid: tie_strength(past_meetings(snapshot, pid), snapshot.now) for pid in mutual}
    introducer_id = max(ties, key=lambda pid: (ties[pid], pid))
    features = {
        "mutual_contacts": saturate(len(mutual), 2.0),
        "introducer_tie": ties[introducer_id],
        "goal_fit": goal_fit(person, snapshot.goals),
        "same_city": same_city(person, snapshot.goals),
    }
    return features, {"mutual": float(len(mutual))}, snapshot.people[introducer_id]


def companions(snapshot: Snapshot) -> dict[str, int]:
    """Person id -> how many past events they attended along with the owner."""
    own = snapshot.self_ids
    counts: dict[str, int] = {}
    for event_id, people in snapshot.attendance.items():
        event = snapshot.events.get(event_id)
        if event is None or event.starts_at > snapshot.now or not own & people.keys():
            continue
        for person_id in people.keys() - own:
            counts[person_id] = counts.get(person_id, 0) + 1
    return counts


def contact_ties(snapshot: Snapshot) -> dict[str, float]:
    """Contact id -> tie strength as of ``snapshot.now``."""
    return {
        p.id: tie_strength(past_meetings(snapshot, p.id), snapshot.now) for p in snapshot.contacts()
    }


def event_features(
    snapshot: Snapshot,
    event: Event,
    went_with: dict[str, int] | None = None,
    ties: dict[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """``went_with`` (``companions``) and ``ties`` (``contact_ties``) are the same for every
    event of a snapshot: computed once when given."""
    went_with = companions(snapshot) if went_with is None else went_with
    ties = contact_ties(snapshot) if ties is None else ties
    registered = snapshot.registered(event.id)
    people = [snapshot.people[p] for p in registered if p in snapshot.people]
    contacts = [p for p in people if p.is_contact and not p.is_self]
    targets = [p for p in people if not p.is_self and goal_fit(p, snapshot.goals) >= 0.6]
    goals = snapshot.goals
    wanted_cities = _folded([*goals.cities, goals.home_city])
    wanted_topics = _folded([*goals.interests, *goals.industries])
    topic_hits = len(_folded(event.topics) & wanted_topics)
    # The people the owner usually goes along with: each shared past event counts.
    together = sum(went_with.get(p.id, 0) for p in people if not p.is_self)
    # Friends count for more than acquaintances: each contact weighs by their tie.
    closeness = sum(ties.get(p.id, 0.0) for p in contacts)
    features = {
        "contacts_registered": saturate(len(contacts), 3.0),
        "close_contacts_registered": saturate(closeness, 1.5),
        "targets_registered": saturate(len(targets), 5.0),
        "companions": saturate(together, 6.0),
        "city_fit": float(bool(event.city and event.city.casefold() in wanted_cities)),
        "topic_fit": min(topic_hits / 2.0, 1.0),
    }
    return features, {
        "contacts": float(len(contacts)),
        "targets": float(len(targets)),
        "topic_hits": float(topic_hits),
        "companions": float(together),
        "closeness": closeness,
    }


def give_back_features(
    snapshot: Snapshot, person: Person
) -> tuple[dict[str, float], dict[str, float]] | None:
    recent = [
        f
        for f in snapshot.favours
        if f.person_id == person.id and 0 <= days_between(f.at, snapshot.now) <= FAVOUR_WINDOW_DAYS
    ]
    received = [f for f in recent if f.direction == "received"]
    given = [f for f in recent if f.direction == "given"]
    balance = len(received) - len(given)
    if balance < 1:
        return None
    last = max(f.at for f in received)
    features = {
        "balance": saturate(balance, 1.5),
        "recency": 0.5 ** (days_between(last, snapshot.now) / 180.0),
        "tie_strength": tie_strength(past_meetings(snapshot, person.id), snapshot.now),
    }
    return features, {
        "received": float(len(received)),
        "given": float(len(given)),
        "days_since_favour": days_between(last, snapshot.now),
    }
