"""Plain-language reasons for a suggestion, strongest contribution first."""

from __future__ import annotations

from collections.abc import Callable

from services.recommender.candidates import Candidate
from services.recommender.rankers import contributions
from services.recommender.snapshot import Person, Snapshot
from shared.messages.recommendations import SuggestionKind

MAX_REASONS = 3
MIN_CONTRIBUTION = 0.02
MIN_EFFECT = 0.005
"""A learned model's feature must raise the score by at least this much to be a reason."""


def tie_label(strength: float) -> str:
    return "strong" if strength >= 0.6 else "good" if strength >= 0.3 else "light"


def _profile(person: Person | None) -> str:
    if person is None:
        return ""
    role = person.function or "Works"
    where = f" in {person.industry}" if person.industry else ""
    at = f" at {person.company}" if person.company else ""
    city = f", {person.city}" if person.city else ""
    return f"{role}{where}{at}{city}"


def _matched_goals(person: Person | None, snapshot: Snapshot) -> str:
    if person is None:
        return "Matches your goals."
    goals = snapshot.goals
    parts = []
    if person.function and person.function.casefold() in {g.casefold() for g in goals.functions}:
        parts.append("target role")
    if person.industry and person.industry.casefold() in {g.casefold() for g in goals.industries}:
        parts.append("target industry")
    if person.city and person.city.casefold() in {g.casefold() for g in goals.cities}:
        parts.append("target city")
    matched = " and ".join(parts) if parts else "your goals"
    return f"{_profile(person)}: matches your {matched}."


def span(days: float) -> str:
    """A duration as a person says it: "40 minutes", "5 hours", "12 days"."""
    for unit, size in (("day", 1.0), ("hour", 1 / 24), ("minute", 1 / 1440)):
        if days >= size or unit == "minute":
            amount = max(round(days / size), 1)
            return f"{amount} {unit}{'s' if amount != 1 else ''}"
    raise AssertionError("unreachable")


def _reconnect(c: Candidate, s: Snapshot, feature: str) -> str:
    person = s.people.get(c.subject_id)
    ctx = c.context
    ago = span(ctx["days_since"])
    if feature in ("rhythm", "recency"):
        if ctx["cadence"]:
            return f"Last met {ago} ago; you usually meet every ~{span(ctx['cadence'])}."
        return f"Last met {ago} ago, and {int(ctx['meetings'])} time(s) in all."
    if feature in ("tie_strength", "frequency"):
        label = tie_label(c.features["tie_strength"])
        return f"A {label} tie: {int(ctx['meetings'])} meetings so far."
    if feature == "goal_fit":
        return _matched_goals(person, s)
    if feature == "is_customer":
        return "A customer: warm customers are the springboard to new ones."
    return f"Also based in {person.city if person else 'your city'}."


def _introduction(c: Candidate, s: Snapshot, feature: str) -> str:
    person = s.people.get(c.subject_id)
    if feature in ("mutual_contacts", "introducer_tie", "linked_ties", "seen_together"):
        n = int(c.context["mutual"])
        label = tie_label(c.features["introducer_tie"])
        mutual = f"{n} mutual contact{'s' if n != 1 else ''}"
        return f"{mutual}; {c.introducer_name} ({label} tie) can introduce you."
    if feature == "goal_fit":
        return _matched_goals(person, s)
    return f"Based in {person.city if person else 'your city'}, like you."


def _event(c: Candidate, s: Snapshot, feature: str) -> str:
    event = s.events[c.subject_id]
    if feature == "close_contacts_registered":
        return f"Contacts you meet often are going ({int(c.context['contacts'])} contacts in all)."
    if feature in ("contacts_registered", "targets_registered"):
        contacts, targets = int(c.context["contacts"]), int(c.context["targets"])
        return (
            f"{contacts} of your contacts and {targets} people matching your targets "
            f"are registered."
        )
    if feature == "companions":
        n = int(c.context["companions"])
        return f"People you went to events with before are going ({n} shared events)."
    if feature == "topic_fit":
        wanted = {t.casefold() for t in (*s.goals.interests, *s.goals.industries)}
        hits = sorted(t for t in event.topics if t.casefold() in wanted)
        return f"On {', '.join(hits)}, which you follow."
    when = event.starts_at.strftime("%a %d %b")
    return f"In {event.city}, {when}."


def _give_back(c: Candidate, _s: Snapshot, feature: str) -> str:
    ctx = c.context
    given = int(ctx["given"])
    kinds = sorted(
        (k.split(":", 1)[1] for k in ctx if k.startswith("kind:")), key=lambda k: -ctx[f"kind:{k}"]
    )
    what = " and ".join(
        f"{int(ctx['kind:' + k])} {k}{'s' if ctx['kind:' + k] > 1 else ''}" for k in kinds
    )
    if feature == "balance":
        back = "you have not reciprocated" if given == 0 else f"you gave back {given}"
        return f"{c.subject_name.split()[0]} gave you {what} in the last two years; {back}."
    if feature == "recency":
        return f"The latest was {round(ctx['days_since_favour'])} days ago."
    return f"A {tie_label(c.features['tie_strength'])} tie worth keeping."


PHRASES: dict[SuggestionKind, Callable[[Candidate, Snapshot, str], str]] = {
    SuggestionKind.RECONNECT: _reconnect,
    SuggestionKind.INTRODUCTION: _introduction,
    SuggestionKind.EVENT: _event,
    SuggestionKind.GIVE_BACK: _give_back,
}


def reasons(
    candidate: Candidate, snapshot: Snapshot, effects: dict[str, float] | None = None
) -> list[str]:
    """One to three reasons from the features that contributed most to the score: the
    prior's weighted features, or, for a learned model, what raised its score (``effects``,
    from ``feature_effects.effects``; features that lowered it are never given as reasons)."""
    shares = contributions(candidate.kind, candidate.features)
    if effects is not None and any(v >= MIN_EFFECT for v in effects.values()):
        shares = {name: value for name, value in effects.items() if value >= MIN_EFFECT}
    ranked = sorted(shares, key=lambda name: -shares[name])
    phrase = PHRASES[candidate.kind]
    out: list[str] = []
    for name in ranked:
        if shares[name] < MIN_CONTRIBUTION and out:
            break
        text = phrase(candidate, snapshot, name)
        if text not in out:
            out.append(text)
        if len(out) == MAX_REASONS:
            break
    return out
