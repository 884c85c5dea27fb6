"""Training on backtests, a split by owners and dates, and promotion only on improvement.

Backtest cut-offs are one horizon apart, from one horizon after the owners' first fact to
one horizon before the end (so every label window is closed and none overlaps the next),
however long the history: a few months of one person's history give a few dates, a
year's give a dozen. The latest quarter of the dates that hold a positive is held out;
with four owners or more, a quarter of the owners (by a stable hash of their id) is held
out as well, and the model learns from the other owners' earlier dates only. A new model
of a kind is promoted only when its NDCG@10 on the held-out (owner, date) rankings beats
the model serving that kind now (the prior, or the last promoted model) clearly: the low
end of its lead's 95% interval above 1% of the serving model's score; it is then
refitted on every row before it is saved. The recipe (logistic or boosted) is chosen by
expanding time-split folds inside the training dates. Every feature is relative to the
owner's horizon, so rows of owners with different rhythms pool.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from services.recommender import artefacts, backtest, rankers
from services.recommender.rankers import PIPELINES, PriorRanker, Ranker, build_pipeline
from services.recommender.ranking_quality import ndcg_at, paired_difference
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import SuggestionKind

MIN_POSITIVES = 20
RECIPE_MARGIN = 0.01
"""Mean NDCG@10 by which a more complex recipe must beat the simpler one to be chosen."""
HELD_OUT_SHARE = 0.25
MIN_OWNERS_TO_SPLIT = 4
PROMOTION_MARGIN = 0.01
"""How far above zero the low end of a candidate's lead must lie, as a share of the serving
model's NDCG@10: a lead that may be under 1% of what is served is no reason to change it.
On the primary school contacts, introduction models whose lead's interval began at
+0.0015 (on 0.50) were promoted, and ranked at 0.15 where the prior ranks at 0.39."""


@dataclass(frozen=True)
class KindResult:
    kind: SuggestionKind
    promoted: bool
    reason: str
    metrics: dict[str, Any]
    version: str | None = None


def first_fact(snapshots: Sequence[Snapshot], *, default: datetime) -> datetime:
    """When the owners' history starts: their first meeting or event."""
    times = [i.at for s in snapshots for i in s.interactions]
    times += [e.starts_at for s in snapshots for e in s.events.values()]
    return min(times, default=default)


def cutoffs(start: datetime, end: datetime, horizon: timedelta) -> list[datetime]:
    """Backtest dates one horizon apart, the last one horizon before ``end`` (its labels
    are then complete), none before one horizon of history after ``start``."""
    out, moment = [], end - horizon
    while moment >= start + horizon:
        out.append(moment)
        moment -= horizon
    return sorted(out)


def held_out_owner(owner_id: str) -> bool:
    """A stable quarter of the owners, the same on every run."""
    return int(hashlib.sha256(owner_id.encode()).hexdigest()[:8], 16) % 4 == 0


def split(
    groups: Sequence[tuple[str, datetime]], y: np.ndarray, dates: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """Training and held-out masks over the rows, or empty masks and the exact reason
    why no fair split could be had."""
    none = np.zeros(len(y), dtype=bool)
    positive_dates = sorted({g[1] for g, label in zip(groups, y, strict=True) if label})
    if not groups:
        return none, none, f"no candidate at any of the {dates} backtest date(s)"
    if not positive_dates:
        return (
            none,
            none,
            (
                f"no positive at any of the {dates} backtest date(s): no owner did this within a "
                "horizon of any of them"
            ),
        )
    held_dates = positive_dates[-max(1, int(len(positive_dates) * HELD_OUT_SHARE)) :]
    first_held = held_dates[0]
    owners = sorted({g[0] for g in groups})
    by_owner = len(owners) >= MIN_OWNERS_TO_SPLIT and any(map(held_out_owner, owners))
    when = np.array([g[1] for g in groups])
    test = np.array([moment in held_dates for moment in when], dtype=bool)
    train = when < first_held
    if by_owner:
        owner_held = np.array([held_out_owner(g[0]) for g in groups], dtype=bool)
        test &= owner_held
        train &= ~owner_held
    if y[test].sum() == 0:
        return (
            none,
            none,
            f"the held-out owners have no positive at the {len(held_dates)} held-out date(s)",
        )
    if y[train].sum() < MIN_POSITIVES:
        return (
            none,
            none,
            (
                f"too few positives to learn from: {int(y[train].sum())} in "
                f"{len(set(when[train]))} training date(s) before {first_held.isoformat()}, "
                f"{MIN_POSITIVES} needed"
            ),
        )
    how = "held-out owners and dates" if by_owner else "held-out dates (too few owners to split)"
    return train, test, how


def clearly_ahead(lead_low: float, serving_ndcg: float) -> bool:
    """Whether a lead whose 95% interval starts at ``lead_low`` is worth a change of model."""
    return lead_low > PROMOTION_MARGIN * serving_ndcg


def group_ndcg(
    scores: np.ndarray, y: np.ndarray, groups: Sequence[Any], subjects: Sequence[str]
) -> dict[Any, float]:
    """NDCG@10 of each (owner, date) group that holds a positive."""
    by_group: dict[Any, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        by_group[group].append(index)
    values = {}
    for group, indices in by_group.items():
        relevant = {subjects[i] for i in indices if y[i]}
        if not relevant:
            continue
        order = sorted(indices, key=lambda i: (-scores[i], subjects[i]))
        values[group] = ndcg_at([subjects[i] for i in order], relevant, 10)
    return values


def mean_ndcg(
    scores: np.ndarray, y: np.ndarray, groups: Sequence[Any], subjects: Sequence[str]
) -> float:
    values = group_ndcg(scores, y, groups, subjects)
    return mean(values.values()) if values else 0.0


def choose_recipe(
    kind: SuggestionKind,
    x: np.ndarray,
    y: np.ndarray,
    groups: Sequence[tuple[str, datetime]],
    subjects: Sequence[str],
    folds: int = 3,
) -> str:
    """The recipe that ranks best on later weeks when fitted on the weeks before them,
    averaged over expanding time-split folds inside the training window."""
    moments = sorted({moment for _, moment in groups})
    if len(moments) < folds + 1:
        return PIPELINES[0]
    bounds = [moments[len(moments) * i // (folds + 1)] for i in range(1, folds + 1)]
    when = np.array([moment for _, moment in groups])
    totals = dict.fromkeys(PIPELINES, 0.0)
    for index, start in enumerate(bounds):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        fit = when < start
        check = (when >= start) & ((when < end) if end is not None else True)
        if len(set(y[fit])) < 2 or y[check].sum() == 0:
            continue
        check_groups = [g for g, keep in zip(groups, check, strict=True) if keep]
        check_subjects = [s for s, keep in zip(subjects, check, strict=True) if keep]
        for recipe in PIPELINES:
            model = build_pipeline(kind, recipe=recipe).fit(x[fit], y[fit])
            predicted = model.predict_proba(x[check])[:, 1]
            totals[recipe] += mean_ndcg(predicted, y[check], check_groups, check_subjects)
    # The simpler recipe (first) unless another ranks clearly better: a small edge on a
    # few weeks is as likely noise as skill.
    best = max(PIPELINES, key=lambda recipe: totals[recipe])
    edge = (totals[best] - totals[PIPELINES[0]]) / folds
    return best if edge > RECIPE_MARGIN else PIPELINES[0]


def train(
    snapshots: Sequence[Snapshot],
    *,
    start: datetime,
    end: datetime,
    horizon: timedelta,
    store: Path,
    current: dict[SuggestionKind, Ranker] | None = None,
    random_state: int = 0,
    feedback: dict[SuggestionKind, tuple[list[list[float]], list[int]]] | None = None,
) -> list[KindResult]:
    """Train every kind on backtests between ``start`` and ``end - horizon`` (plus the owners'
    answers to suggestions, as extra training rows); promote models that beat the serving ones."""
    moments = cutoffs(start, end, horizon)
    data = backtest.rows(snapshots, moments, horizon)
    results = []
    for kind, (x, y, groups, subjects) in data.items():
        train_mask, test_mask, how = split(groups, y, len(moments))
        if not train_mask.any():
            results.append(
                KindResult(
                    kind,
                    False,
                    how
                    if moments
                    else "no backtest date: the history is shorter than two horizons",
                    {"rows": len(y), "dates": len(moments), "positives": int(y.sum())},
                )
            )
            continue
        started = time.perf_counter()
        x_train, y_train = x[train_mask], y[train_mask]
        extra_x, extra_y = (feedback or {}).get(kind, ([], []))
        if extra_y:
            x_train = np.vstack([x_train, np.array(extra_x, dtype=float)])
            y_train = np.concatenate([y_train, np.array(extra_y, dtype=int)])
        train_groups = [g for g, keep in zip(groups, train_mask, strict=True) if keep]
        train_subjects = [s for s, keep in zip(subjects, train_mask, strict=True) if keep]
        recipe = choose_recipe(kind, x[train_mask], y[train_mask], train_groups, train_subjects)
        model = build_pipeline(kind, recipe=recipe, random_state=random_state)
        model.fit(x_train, y_train)
        seconds = time.perf_counter() - started
        serving = (current or {}).get(kind) or PriorRanker(kind)
        test_groups = [g for g, keep in zip(groups, test_mask, strict=True) if keep]
        test_subjects = [s for s, keep in zip(subjects, test_mask, strict=True) if keep]
        ours = group_ndcg(
            model.predict_proba(x[test_mask])[:, 1], y[test_mask], test_groups, test_subjects
        )
        theirs = group_ndcg(serving.score(x[test_mask]), y[test_mask], test_groups, test_subjects)
        # Promoted only where it wins clearly: the 95% interval of its lead over the serving
        # model, resampling held-out owners, lies above PROMOTION_MARGIN of it. On the real
        # histories a model ahead on its held-out dates by a hair was often behind at the
        # next cut-off.
        lead, low, high = paired_difference(
            [ours[g] for g in ours], [theirs[g] for g in ours], groups=[g[0] for g in ours]
        )
        candidate_ndcg, serving_ndcg = mean(ours.values()), mean(theirs.values())
        metrics = {
            "ndcg@10_candidate": round(candidate_ndcg, 4),
            "ndcg@10_serving": round(serving_ndcg, 4),
            "lead_ci95": [round(low, 4), round(high, 4)],
            "serving": serving.version,
            "recipe": recipe,
            "train_rows": int(train_mask.sum()),
            "test_rows": int(test_mask.sum()),
            "training_seconds": round(seconds, 3),
            "feedback_rows": len(extra_y),
            "dates": len(moments),
            "held_out": how,
        }
        needed = PROMOTION_MARGIN * serving_ndcg
        if not clearly_ahead(low, serving_ndcg):
            reason = (
                f"did not beat the serving model clearly: lead {lead:+.4f} "
                f"(95% CI {low:+.4f} to {high:+.4f}, its low end must pass {needed:+.4f}) "
                f"on the {how}"
            )
            results.append(KindResult(kind, False, reason, metrics))
            continue
        # Promoted: refit on every week, the held-out ones too (the latest weeks say most
        # about what comes next), with the recipe the time split chose.
        x_all, y_all = x, y
        if extra_y:
            x_all = np.vstack([x, np.array(extra_x, dtype=float)])
            y_all = np.concatenate([y, np.array(extra_y, dtype=int)])
        model = build_pipeline(kind, recipe=recipe, random_state=random_state).fit(x_all, y_all)
        saved = artefacts.save(
            store,
            kind,
            model,
            feature_names=list(rankers.feature_names(kind)),
            cutoff=end,
            x=x,
            y=y,
            metrics=metrics,
        )
        artefacts.promote(store, kind, saved.metadata["version"])
        results.append(
            KindResult(kind, True, "beat the serving model", metrics, saved.metadata["version"])
        )
    return results
