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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.recommender.snapshot import Event, Goals, Person, Snapshot

DAY_SECONDS = 86_400.0
# Every time scale is a multiple of the snapshot's horizon H (how far ahead a suggestion
# looks; 30 days when serving): multiply every timestamp, the cut-off and H by one factor
# and every feature stays the same, so a history in seconds ranks as one in months
# (tests/unit/recommender/test_unit_free.py). At H = 30 days the figures in comments hold.
TIE_HALF_LIFE = 12.0
"""Tie strength: each meeting's weight halves every 12 horizons (a year)."""
FREQUENCY_HALF_LIFE = 4.0
"""Frequency: meetings of the last few horizons, each halving every 4 (four months)."""
DORMANT_SHARE = 0.1
"""What a meeting keeps of its weight in a tie however long ago: a dormant tie is still a
tie, and people are glad to hear from one (Levin, Walter and Murnighan 2011)."""
RECENCY_HALF_LIFE = 1.0
"""Recency halves with every horizon of silence."""
DEFAULT_CADENCE = 3.0
"""Assumed rhythm with someone met only once: three horizons (a quarterly check-in)."""
SHORTEST_GAP = 1e-3
"""Gaps shorter than a thousandth of a horizon (43 minutes) are one sitting."""
FAVOUR_WINDOW = 24.0
"""Favours count for 24 horizons (two years)."""
FAVOUR_HALF_LIFE = 6.0
"""A favour received is the more pressing the more recent: halving every six horizons."""
ALIVE_PRIOR = 0.9
"""Before any silence, the chance a tie is still active rather than lapsed for good."""
MIN_LOG_SPREAD = 0.25
"""Rhythms are never exact: at least this spread (in log of the gap) between meetings."""
INTENSITY_HALF_LIVES = (0.25, 1.0, 4.0, 16.0)
"""The time scales (in horizons) a learned model sees the meeting rate at: which one says
most about the next horizon differs between networks, and backtests find it."""

RECONNECT = (
    "recency",
    "frequency",
    "rhythm",
    "tie_strength",
    "goal_fit",
    "is_customer",
    "same_city",
)
INTRODUCTION = (
    "mutual_contacts",
    "introducer_tie",
    "linked_ties",
    "seen_together",
    "goal_fit",
    "same_city",
)
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


def horizons(snapshot: Snapshot, earlier: datetime, later: datetime) -> float:
    """The time from ``earlier`` to ``later`` in horizons of ``snapshot``."""
    return (later - earlier).total_seconds() / snapshot.horizon.total_seconds()


def saturate(value: float, scale: float) -> float:
    """0 at 0, about 0.63 at ``scale``, approaching 1: diminishing returns."""
    return 1.0 - math.exp(-max(value, 0.0) / scale)


def past_meetings(snapshot: Snapshot, person_id: str) -> list[datetime]:
    return [i.at for i in snapshot.interactions_with(person_id) if i.at <= snapshot.now]


def usual_gap(snapshot: Snapshot, times: list[datetime]) -> float | None:
    """Median gap between consecutive meetings, in horizons; None with fewer than three."""
    return usual_gap_of(ages(snapshot, times))


def usual_gap_of(past: list[float]) -> float | None:
    """``usual_gap`` of meetings ``past`` horizons ago, oldest first."""
    if len(past) < 3:
        return None
    return statistics.median(a - b for a, b in itertools.pairwise(past))


def usual_cadence_days(snapshot: Snapshot, times: list[datetime]) -> float | None:
    gap = usual_gap(snapshot, times)
    return None if gap is None else gap * snapshot.horizon.total_seconds() / DAY_SECONDS


def ages(snapshot: Snapshot, times: Iterable[datetime]) -> list[float]:
    """How long ago each of ``times`` was, in horizons (future times left out)."""
    now, horizon = snapshot.now, snapshot.horizon.total_seconds()
    return [(now - t).total_seconds() / horizon for t in times if t <= now]


def contact_ages(snapshot: Snapshot, person_id: str) -> list[float]:
    """``ages`` of the past meetings with a person, computed once per snapshot."""
    key = (person_id, snapshot.now, snapshot.horizon, id(snapshot.interactions))
    cached = snapshot._ages.get(key)
    if cached is None:
        cached = snapshot._ages[key] = ages(snapshot, past_meetings(snapshot, person_id))
    return cached


def decayed(past: Iterable[float], half_life: float) -> float:
    """Meetings ``past`` horizons ago, each weighing 1 now and halving every ``half_life``."""
    return float(sum(0.5 ** (age / half_life) for age in past))


def meeting_chance(snapshot: Snapshot, times: list[datetime]) -> tuple[float, float]:
    return meeting_chance_of(ages(snapshot, times))


def meeting_chance_of(past: list[float]) -> tuple[float, float]:
    """(chance of meeting within the next horizon, chance the tie is still active).

    The gaps between meetings follow a log-normal fitted to this contact's own history
    (three horizons with a wide spread when there is too little of it); a tie may also
    have lapsed for good, the more likely the longer the silence runs past the usual gaps.
    This is the "alive or gone" reasoning of customer-base models (Pareto/NBD, BG/NBD): a
    contact twice as overdue as ever before is probably not about to call. Gaps and the
    silence are in horizons, so the rhythm does not depend on the unit of time.
    """
    gaps = [max(a - b, SHORTEST_GAP) for a, b in itertools.pairwise(past)]
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
        rhythm = statistics.NormalDist(math.log(DEFAULT_CADENCE), 0.75)
    silence = max(past[-1], SHORTEST_GAP)

    def still_waiting(gap: float) -> float:  # P(next gap > gap)
        return 1.0 - rhythm.cdf(math.log(gap))

    waiting, after = still_waiting(silence), still_waiting(silence + 1.0)
    unexplained = ALIVE_PRIOR * waiting + (1.0 - ALIVE_PRIOR)
    return ALIVE_PRIOR * (waiting - after) / unexplained, ALIVE_PRIOR * waiting / unexplained


def tie_strength(snapshot: Snapshot, person_id: str) -> float:
    """Meetings with the person, each halving every ``TIE_HALF_LIFE`` horizons down to a
    lasting ``DORMANT_SHARE``; saturating at about four."""
    return tie_of(contact_ages(snapshot, person_id))


def tie_of(past: list[float]) -> float:
    """``tie_strength`` of meetings ``past`` horizons ago."""
    lasting = DORMANT_SHARE * len(past)
    return saturate(lasting + (1.0 - DORMANT_SHARE) * decayed(past, TIE_HALF_LIFE), 4.0)


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
    """Features of meeting a known contact again, or None with no past meeting or one
    already planned."""
    times = past_meetings(snapshot, person.person_id)
    if not times:
        return None
    if any(i.at > snapshot.now for i in snapshot.interactions_with(person.person_id)):
        return None
    past = contact_ages(snapshot, person.person_id)  # oldest first
    silence = past[-1]
    chance, alive = meeting_chance_of(past)
    gap = usual_gap_of(past)
    features = {
        "recency": 0.5 ** (silence / RECENCY_HALF_LIFE),
        "frequency": saturate(decayed(past, FREQUENCY_HALF_LIFE), 4.0),
        "rhythm": chance,
        "tie_strength": tie_of(past),
        "goal_fit": goal_fit(person, snapshot.goals),
        "is_customer": float(person.is_customer),
        "same_city": same_city(person, snapshot.goals),
    }
    context = {
        "days_since": days_between(times[-1], snapshot.now),
        "cadence": (gap or 0.0) * snapshot.horizon.total_seconds() / DAY_SECONDS,
        "meetings": float(len(times)),
        "silence": silence,
        "usual_gap": gap or 0.0,
        "overdue_ratio": silence / (gap or DEFAULT_CADENCE),
        "alive": alive,
        **{
            f"intensity_{half_life:g}": decayed(past, half_life)
            for half_life in INTENSITY_HALF_LIVES
        },
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


@dataclass
class Links:
    """What links the owner's contacts to people the owner has not met, computed once per
    snapshot: who shares an event or a company with whom, and how strong and how recent
    the owner's own tie with each contact is."""

    contacts: set[str]
    ties: dict[str, float]
    recent: dict[str, float]
    """Contact -> meetings of the last horizon or so (each halving every horizon)."""
    by_company: dict[str, set[str]]
    events_of: dict[str, list[tuple[str, float]]]
    """Person -> (event id, weight) of the past events they were listed on; the weight is
    the event's recency over the people it had besides them: a dinner for six says more
    about who knows whom than a conference of six hundred."""
    contacts_at: dict[str, list[str]]
    """Event id -> the contacts listed on it."""

    @classmethod
    def of(cls, snapshot: Snapshot) -> Links:
        contacts = {c.person_id: c for c in snapshot.contacts()}
        past = {pid: contact_ages(snapshot, pid) for pid in contacts}
        by_company: dict[str, set[str]] = defaultdict(set)
        for contact in contacts.values():
            if contact.company:
                by_company[contact.company.casefold()].add(contact.person_id)
        events_of: dict[str, list[tuple[str, float]]] = defaultdict(list)
        contacts_at: dict[str, list[str]] = {}
        for event_id in snapshot.attendance:
            event = snapshot.events.get(event_id)
            if event is None or event.starts_at > snapshot.now:
                continue
            people = snapshot.registered(event_id)
            age = horizons(snapshot, event.starts_at, snapshot.now)
            weight = 0.5 ** (age / FREQUENCY_HALF_LIFE) / max(len(people) - 1, 1)
            for person_id in people:
                events_of[person_id].append((event_id, weight))
            contacts_at[event_id] = [p for p in people if p in contacts]
        return cls(
            contacts=set(contacts),
            ties={pid: tie_of(a) for pid, a in past.items()},
            recent={pid: decayed(a, RECENCY_HALF_LIFE) for pid, a in past.items()},
            by_company=dict(by_company),
            events_of=dict(events_of),
            contacts_at=contacts_at,
        )

    def to(self, person: Person) -> dict[str, float]:
        """Contact -> how strongly they are linked to ``person``: 1 for the same company,
        plus each event both were listed on, by its weight."""
        strength: dict[str, float] = defaultdict(float)
        if person.company:
            for contact_id in self.by_company.get(person.company.casefold(), ()):
                strength[contact_id] += 1.0
        for event_id, weight in self.events_of.get(person.person_id, ()):
            for contact_id in self.contacts_at[event_id]:
                strength[contact_id] += weight
        strength.pop(person.person_id, None)
        return dict(strength)


def introduction_features(
    snapshot: Snapshot, person: Person, links: Links
) -> tuple[dict[str, float], dict[str, float], Person] | None:
    """Evidence about the person, not only their group: which contacts link to them, how
    strongly, and how strong and recent the owner's tie with those contacts is."""
    linked = links.to(person)
    if not linked:
        return None
    introducer_id = max(linked, key=lambda pid: (links.ties[pid] * linked[pid], pid))
    through_ties = sum(links.recent[pid] * strength for pid, strength in linked.items())
    together = sum(linked.values())
    features = {
        "mutual_contacts": saturate(len(linked), 2.0),
        "introducer_tie": links.ties[introducer_id],
        "linked_ties": saturate(through_ties, 4.0),
        "seen_together": saturate(together, 2.0),
        "goal_fit": goal_fit(person, snapshot.goals),
        "same_city": same_city(person, snapshot.goals),
    }
    context = {
        "mutual": float(len(linked)),
        "linked_ties": through_ties,
        "link_strength": together,
    }
    return features, context, snapshot.people[introducer_id]


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
    return {p.person_id: tie_strength(snapshot, p.person_id) for p in snapshot.contacts()}


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
    together = sum(went_with.get(p.person_id, 0) for p in people if not p.is_self)
    # Friends count for more than acquaintances: each contact weighs by their tie.
    closeness = sum(ties.get(p.person_id, 0.0) for p in contacts)
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
        if f.person_id == person.person_id
        and 0 <= horizons(snapshot, f.at, snapshot.now) <= FAVOUR_WINDOW
    ]
    received = [f for f in recent if f.direction == "received"]
    given = [f for f in recent if f.direction == "given"]
    balance = len(received) - len(given)
    if balance < 1:
        return None
    last = max(f.at for f in received)
    features = {
        "balance": saturate(balance, 1.5),
        "recency": 0.5 ** (horizons(snapshot, last, snapshot.now) / FAVOUR_HALF_LIFE),
        "tie_strength": tie_strength(snapshot, person.person_id),
    }
    return features, {
        "received": float(len(received)),
        "given": float(len(given)),
        "days_since_favour": days_between(last, snapshot.now),
    }
