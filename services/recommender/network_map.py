"""The network map: an owner's network by industry, function, seniority, city and tie
strength, set against their goals, with the gaps named — as text and as a PNG picture."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from services.recommender import features as f
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import NetworkSummary
from shared.settings import SpringboardSettings

TIE_BANDS = (("strong", 0.6), ("good", 0.3), ("light", 0.0001), ("dormant", -1.0))


@dataclass
class NetworkMap:
    owner_id: str
    contacts: int
    industries: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    seniority: Counter[str] = field(default_factory=Counter)
    cities: Counter[str] = field(default_factory=Counter)
    ties: Counter[str] = field(default_factory=Counter)
    strong_by_city: Counter[str] = field(default_factory=Counter)
    targets: dict[str, int] = field(default_factory=dict)
    """"CFO in Stockholm" -> how many contacts fit it."""
    gaps: list[str] = field(default_factory=list)


def band(strength: float) -> str:
    return next(name for name, floor in TIE_BANDS if strength >= floor)


def build(snapshot: Snapshot) -> NetworkMap:
    contacts = snapshot.contacts()
    result = NetworkMap(snapshot.owner_id, len(contacts))
    for person in contacts:
        strength = f.tie_strength(snapshot, person.person_id)
        result.industries[person.industry or "unknown"] += 1
        result.functions[person.function or "unknown"] += 1
        result.seniority[person.seniority or "unknown"] += 1
        result.cities[person.city or "unknown"] += 1
        result.ties[band(strength)] += 1
        if band(strength) == "strong":
            result.strong_by_city[person.city or "unknown"] += 1
    goals = snapshot.goals
    functions: list[str | None] = [*sorted(goals.functions)] or [None]
    cities: list[str | None] = [*sorted(goals.cities)] or [None]
    for function in functions:
        for city in cities:
            label = " in ".join(x for x in (function and f"{function}s", city) if x)
            if not label:
                continue
            result.targets[label] = sum(
                1
                for p in contacts
                if (function is None or (p.function or "").casefold() == function.casefold())
                and (city is None or (p.city or "").casefold() == city.casefold())
            )
    for industry in sorted(goals.industries):
        result.targets[f"contacts in {industry}"] = result.industries.get(industry, 0)
    result.gaps = [f"{n} {label}" for label, n in result.targets.items() if n < 3]
    return result


SHOWN = 12
"""Values of each dimension a summary carries (the rest are few each, and only counted)."""


def summary(network: NetworkMap) -> NetworkSummary:
    """The map as published with each ranked list, for the owner's page."""

    def top(counter: Counter[str]) -> dict[str, int]:
        return {k[:200]: v for k, v in counter.most_common(SHOWN)}

    return NetworkSummary(
        contacts=network.contacts,
        ties={name: network.ties.get(name, 0) for name, _ in TIE_BANDS},
        industries=top(network.industries),
        functions=top(network.functions),
        seniority=top(network.seniority),
        cities=top(network.cities),
        strong_by_city=top(network.strong_by_city),
        targets=dict(list(network.targets.items())[:50]),
        gaps=network.gaps[:50],
    )


def render_text(network: NetworkMap) -> str:
    def top(counter: Counter[str], n: int = 6) -> str:
        return ", ".join(f"{k} {v}" for k, v in counter.most_common(n)) or "none"

    lines = [
        f"Network of {network.owner_id}: {network.contacts} contacts",
        f"  ties:       {', '.join(f'{k} {network.ties.get(k, 0)}' for k, _ in TIE_BANDS)}",
        f"  industries: {top(network.industries)}",
        f"  functions:  {top(network.functions)}",
        f"  seniority:  {top(network.seniority)}",
        f"  cities:     {top(network.cities)}",
        f"  strongest ties are in: {top(network.strong_by_city, 3)}",
        "  against your goals: "
        + (", ".join(f"{n} {label}" for label, n in network.targets.items()) or "no goals set"),
    ]
    if network.gaps:
        lines.append("  gaps: " + "; ".join(network.gaps))
    return "\n".join(lines)


def render_png(network: NetworkMap, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("Tie strength", Counter({k: network.ties.get(k, 0) for k, _ in TIE_BANDS})),
        ("Industry", network.industries),
        ("Function", network.functions),
        ("City", network.cities),
        ("Against your goals", Counter(network.targets)),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.2))
    for axis, (title, counter) in zip(axes, panels, strict=True):
        items = counter.most_common(8) if title != "Tie strength" else list(counter.items())
        labels = [k for k, _ in items][::-1]
        values = [v for _, v in items][::-1]
        colours = [
            "#c0392b" if title == "Against your goals" and v < 3 else "#2e86c1" for v in values
        ]
        axis.barh(labels, values, color=colours)
        axis.set_title(title)
        for spine in ("top", "right"):
            axis.spines[spine].set_visible(False)
    figure.suptitle(
        f"Network of {network.owner_id}: {network.contacts} contacts"
        + (f" — gaps: {'; '.join(network.gaps)}" if network.gaps else "")
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def for_owner(settings: SpringboardSettings, owner_id: str) -> NetworkMap:
    """Build the map from the recommender's own store."""
    from datetime import UTC, datetime

    from services.recommender import store
    from services.recommender.models import TABLES
    from shared import database

    with (
        database.store_of(settings, "recommender", TABLES) as engine,
        database.transaction(engine) as session,
    ):
        return build(store.load_snapshot(session, owner_id=owner_id, now=datetime.now(UTC)))
