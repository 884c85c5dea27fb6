"""How far the timing of an owner's own meetings can carry "who will I meet again", measured
on the real histories: each signal alone, the best of a family of them picked with
hindsight, and a model learned from the backtests, against the best baseline.

``python -m bench.reconnect_signals [--json] [--only NAME…]`` (about two minutes). Each real
history (``bench.real_histories``) is read as its converter reads it, and ranked at the same
cut-offs (60/70/80% of its span, horizon 10%) on the same candidates as ``springboard
evaluate``: every contact the owner met by the cut-off, and as relevant, those met again in
the horizon after it. The snapshots are built directly from the meetings, without the
replay through ingest, so that a family of a hundred rankers takes seconds; the baselines
and the prior come out as in ``docs/evaluation.md``.

- **singles**: the prior's own features alone (recency, frequency, rhythm, tie strength),
  the meeting rate at half-lives from 1/32 to 32 horizons, the total time spent together,
  the meetings with the contact's group (class or role) where the data give one, and the
  meetings in the same window one day (or week) earlier, 2 to 7 periods back counted less.
- **hindsight**: the best of the rate at every half-life and of every blend of a short and
  a long one, chosen on the very rankings it is scored on: an upper bound of what a ranker
  built from these timings can reach, not a ranker anyone could serve.
- **learned**: a logistic regression on the log rates, the log silence and count, and the
  same as z-scores within the owner's candidates, pooled over owners and fitted on the
  backtest dates (one horizon apart) before each cut-off: what a learned model can find.
- **chosen**: the prior or one rate, whichever ranked best on the backtest dates before
  each cut-off: for all owners at once, and for each owner on their own backtests (their
  mean pulled towards everyone's as if everyone's were three more rankings of theirs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench import real_histories
from services.recommender import baselines, candidates, rankers, scoring
from services.recommender import features as f
from services.recommender.candidates import Candidate
from services.recommender.ranking_quality import ndcg_at
from services.recommender.snapshot import Interaction, Person, Snapshot
from shared.messages.recommendations import SuggestionKind

HALF_LIVES = (1 / 32, 1 / 8, 1 / 4, 1 / 2, 1.0, 2.0, 4.0, 8.0, 32.0)
"""Horizons over which a meeting's weight halves, for the rates measured alone."""
BLEND_SHARES = (0.3, 0.5, 0.7)
OWN_CHOICE_PULL = 3
"""How many rankings' worth everyone's mean counts in an owner's own choice of ranker."""
LEARNED_HALF_LIVES = (1 / 32, 1 / 8, 1 / 2, 2.0, 8.0)


@dataclass(frozen=True)
class Ranking:
    """One owner at one cut-off: the reconnect candidates and who was met again."""

    snapshot: Snapshot
    found: list[Candidate]
    relevant: set[str]


def _snapshot(
    owner: str,
    partners: dict[str, list[tuple[float, float]]],
    groups: dict[str, str],
    now: float,
    horizon: float,
) -> Snapshot:
    people = {p: Person(p, f"Person {p}", company=groups.get(p), is_contact=True) for p in partners}
    interactions = [
        Interaction(f"{p}-{start}", datetime.fromtimestamp(start, UTC), frozenset({p}))
        for p, meetings in partners.items()
        for start, _ in meetings
    ]
    return Snapshot(
        owner_id=owner,
        now=datetime.fromtimestamp(now, UTC),
        people=people,
        interactions=interactions,
        events={},
        attendance={},
        favours=[],
        horizon=timedelta(seconds=horizon),
    )


def rankings_at(
    by_owner: dict[str, dict[str, list[tuple[float, float]]]],
    groups: dict[str, str],
    now: float,
    horizon: float,
) -> Iterator[tuple[Ranking, dict[str, list[tuple[float, float]]]]]:
    """Every owner with a contact met again in the horizon after ``now``, and their past."""
    for owner, partners in sorted(by_owner.items()):
        past = {p: [m for m in ms if m[0] <= now] for p, ms in partners.items()}
        past = {p: ms for p, ms in past.items() if ms}
        again = {p for p in past if any(now < m[0] <= now + horizon for m in partners[p])}
        if not again:
            continue
        snapshot = _snapshot(owner, past, groups, now, horizon)
        found = candidates.reconnect(snapshot)
        yield Ranking(snapshot, found, again), past


def _ages(ranking: Ranking, candidate: Candidate) -> list[float]:
    return f.contact_ages(ranking.snapshot, candidate.subject_id)


def rate(half_life: float) -> Callable[[Ranking], list[float]]:
    return lambda r: [f.decayed(_ages(r, c), half_life) for c in r.found]


def blend(short: float, long: float, share: float) -> Callable[[Ranking], list[float]]:
    """``share`` of the short rate and the rest of the long one, each over its largest."""

    def score(r: Ranking) -> list[float]:
        a, b = rate(short)(r), rate(long)(r)
        top_a, top_b = max(a) or 1.0, max(b) or 1.0
        return [share * x / top_a + (1 - share) * y / top_b for x, y in zip(a, b, strict=True)]

    return score


def group_meetings(r: Ranking) -> list[float]:
    """The owner's meetings, each halving every horizon, with anyone of the contact's group."""
    by_group: dict[str | None, float] = defaultdict(float)
    for c in r.found:
        by_group[c.company] += f.decayed(_ages(r, c), 1.0)
    return [by_group[c.company] if c.company else 0.0 for c in r.found]


def same_window(period: timedelta, periods: int = 7) -> Callable[[Ranking], list[float]]:
    """The meetings that began in the horizon's own window one ``period`` earlier (a day, a
    week), two periods earlier and so on, the k-th counted 1/k: who recurs on a timetable.
    A calendar fact: it reads the data's times as real ones (all six are in seconds)."""

    def score(r: Ranking) -> list[float]:
        p = period / r.snapshot.horizon
        return [
            sum(sum(1 for a in ages if k * p - 1 <= a <= k * p) / k for k in range(1, periods + 1))
            for ages in (_ages(r, c) for c in r.found)
        ]

    return score


def baseline(name: str) -> Callable[[Ranking], list[float]]:
    scorer = baselines.for_kind(SuggestionKind.RECONNECT)[name]
    return lambda r: scorer(r.snapshot, r.found)


def prior(r: Ranking) -> list[float]:
    ranker = scoring.prior_ranker(SuggestionKind.RECONNECT)
    return [float(s) for s in ranker.score(rankers.matrix(r.found))]


def feature(name: str) -> Callable[[Ranking], list[float]]:
    return lambda r: [c.features[name] for c in r.found]


def ndcg(r: Ranking, values: list[float]) -> float:
    order = sorted(range(len(r.found)), key=lambda i: (-values[i], r.found[i].subject_id))
    return ndcg_at([r.found[i].subject_id for i in order], r.relevant, 10)


def learned_rows(r: Ranking) -> np.ndarray:
    raw = np.array(
        [
            [
                math.log(max(ages[-1], f.SHORTEST_GAP)),
                math.log(len(ages)),
                *(math.log(f.decayed(ages, h) + f.SHORTEST_GAP) for h in LEARNED_HALF_LIVES),
            ]
            for ages in (_ages(r, c) for c in r.found)
        ]
    )
    z = (raw - raw.mean(axis=0)) / (raw.std(axis=0) + 1e-9)
    return np.hstack([raw, z])


def measure(name: str) -> dict[str, Any]:
    history = real_histories.HISTORIES[name]
    records, groups = history.read()
    step = real_histories.resolution(records)
    by_owner: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for a, b, start, end in real_histories.meetings(records, step):
        by_owner[a][b].append((start, end))
        by_owner[b][a].append((start, end))
    for partners in by_owner.values():
        for meetings in partners.values():
            meetings.sort()
    cutoffs, horizon_delta = real_histories.cutoffs(history)
    horizon, first = horizon_delta.total_seconds(), records[0].at
    singles: dict[str, Callable[[Ranking], list[float]]] = {
        "most recent": baseline("most_recent"),
        "most frequent": baseline("most_frequent"),
        "most overdue": baseline("most_overdue"),
        "prior": prior,
        **{
            f"prior's {n} alone": feature(n)
            for n in ("recency", "frequency", "rhythm", "tie_strength")
        },
        **{f"rate, half-life {h:g}": rate(h) for h in HALF_LIVES},
        "group's meetings": group_meetings,
        "same window, a day earlier": same_window(timedelta(days=1)),
        "same window, a week earlier": same_window(timedelta(days=7)),
    }
    family = {f"rate {h:g}": rate(h) for h in HALF_LIVES} | {
        f"blend {s:g}/{lg:g} at {w:g}": blend(s, lg, w)
        for s, lg in itertools.product(HALF_LIVES[:4], HALF_LIVES[5:])
        for w in BLEND_SHARES
    }
    scores: dict[str, list[float]] = defaultdict(list)
    for cutoff in cutoffs:
        now = cutoff.timestamp()
        tested = list(rankings_at(by_owner, groups, now, horizon))
        first_here = len(scores.get("prior", []))
        for ranking, past in tested:
            for label, scorer in singles.items():
                scores[label].append(ndcg(ranking, scorer(ranking)))
            together = [sum(min(e, now) - s for s, e in past[c.subject_id]) for c in ranking.found]
            scores["time together"].append(ndcg(ranking, together))
            for label, scorer in family.items():
                scores[f"family: {label}"].append(ndcg(ranking, scorer(ranking)))
        earlier = backtests(by_owner, groups, first, now, horizon)
        scores["learned"] += _learned(earlier, tested)
        for_all, own_choice = _choices(earlier)
        for i, (ranking, _) in enumerate(tested, start=first_here):
            scores["chosen for all owners"].append(scores[for_all][i])
            scores["chosen per owner"].append(scores[own_choice(ranking.snapshot.owner_id)][i])
    table = {k: round(mean(v), 4) for k, v in scores.items() if not k.startswith("family: ")}
    best_label = max((k for k in scores if k.startswith("family: ")), key=lambda k: mean(scores[k]))
    best_baseline = max(("most recent", "most frequent", "most overdue"), key=lambda k: table[k])
    return {
        "data_set": history.label,
        "rankings": len(scores["prior"]),
        "ndcg@10": table,
        "hindsight": {
            "best": best_label[len("family: ") :],
            "ndcg@10": round(mean(scores[best_label]), 4),
        },
        "best_baseline": best_baseline,
        "hindsight_over_best_baseline": round(mean(scores[best_label]) / table[best_baseline], 3),
        "learned_over_best_baseline": round(table["learned"] / table[best_baseline], 3),
        "chosen_over_best_baseline": {
            k: round(table[k] / table[best_baseline], 3)
            for k in ("chosen for all owners", "chosen per owner")
        },
    }


def backtests(
    by_owner: dict[str, dict[str, list[tuple[float, float]]]],
    groups: dict[str, str],
    first: float,
    now: float,
    horizon: float,
) -> list[Ranking]:
    """The rankings at the backtest dates one horizon apart before ``now``, each label
    window closed by it."""
    found: list[Ranking] = []
    moment = now - horizon
    while moment >= first + horizon:
        found += [ranking for ranking, _ in rankings_at(by_owner, groups, moment, horizon)]
        moment -= horizon
    return found


def _learned(earlier: list[Ranking], tested: list[tuple[Ranking, Any]]) -> list[float]:
    """Fitted on the backtests ``earlier``, scored on the rankings ``tested``."""
    rows, labels = [], []
    for ranking in earlier:
        rows.append(learned_rows(ranking))
        labels += [c.subject_id in ranking.relevant for c in ranking.found]
    if not rows or len(set(labels)) < 2:
        return [ndcg(r, prior(r)) for r, _ in tested]
    model = LogisticRegression(max_iter=2000).fit(np.vstack(rows), np.array(labels))
    return [ndcg(r, model.predict_proba(learned_rows(r))[:, 1].tolist()) for r, _ in tested]


def _choices(earlier: list[Ranking]) -> tuple[str, Callable[[str], str]]:
    """The prior or a rate (by its label among the singles), chosen on the backtests
    ``earlier``: for everyone, and per owner (pulled towards everyone's choice)."""
    menu: dict[str, Callable[[Ranking], list[float]]] = {"prior": prior} | {
        f"rate, half-life {h:g}": rate(h) for h in HALF_LIVES
    }
    everyone: dict[str, list[float]] = defaultdict(list)
    own: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for ranking in earlier:
        for label, scorer in menu.items():
            value = ndcg(ranking, scorer(ranking))
            everyone[label].append(value)
            own[ranking.snapshot.owner_id][label].append(value)
    overall = {k: mean(everyone[k]) if everyone[k] else 0.0 for k in menu}
    for_all = max(menu, key=lambda k: (overall[k], k == "prior"))

    def own_choice(owner: str) -> str:
        mine = own.get(owner)
        if not mine:
            return for_all
        return max(
            menu,
            key=lambda k: (
                (sum(mine[k]) + OWN_CHOICE_PULL * overall[k]) / (len(mine[k]) + OWN_CHOICE_PULL)
            ),
        )

    return for_all, own_choice


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per data set")
    parser.add_argument("--only", nargs="+", choices=list(real_histories.HISTORIES))
    args = parser.parse_args()
    results = []
    for name in args.only or list(real_histories.HISTORIES):
        try:
            results.append(measure(name))
        except real_histories.MissingData as missing:
            print(f"skipped: {missing}", file=sys.stderr)
    if args.json:
        for result in results:
            print(json.dumps(result))
        return
    labels = list(results[0]["ndcg@10"]) if results else []
    print("| signal | " + " | ".join(r["data_set"] for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for label in labels:
        print(f"| {label} | " + " | ".join(f"{r['ndcg@10'][label]:.3f}" for r in results) + " |")
    print(
        "| best of the family, with hindsight | "
        + " | ".join(f"{r['hindsight']['ndcg@10']:.3f} ({r['hindsight']['best']})" for r in results)
        + " |"
    )
    print(
        "| hindsight / best baseline | "
        + " | ".join(f"{r['hindsight_over_best_baseline']:.3f}" for r in results)
        + " |"
    )
    print(
        "| learned / best baseline | "
        + " | ".join(f"{r['learned_over_best_baseline']:.3f}" for r in results)
        + " |"
    )


if __name__ == "__main__":
    main()
