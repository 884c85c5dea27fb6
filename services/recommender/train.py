"""Training on backtests, a time-split evaluation, and promotion only on improvement.

Cut-offs every two weeks; the last quarter of them (the most recent) is held out. A new
model of a kind is promoted only when its mean NDCG@10 over the held-out (owner, cut-off)
groups beats the model serving that kind now (the prior, or the last promoted model);
it is then refitted on every week before it is saved. The recipe (logistic or boosted) is
chosen by expanding time-split folds inside the training weeks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from services.recommender import artefacts, backtest
from services.recommender.metrics import ndcg_at
from services.recommender.pipeline import PIPELINES, PriorRanker, Ranker, build_pipeline
from services.recommender.snapshot import Snapshot
from shared.messages.recommendations import SuggestionKind

MIN_POSITIVES = 20
RECIPE_MARGIN = 0.01
"""Mean NDCG@10 by which a more complex recipe must beat the simpler one to be chosen."""
STEP = timedelta(days=14)


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


def cutoffs(start: datetime, end: datetime) -> list[datetime]:
    out, moment = [], end
    while moment > start:
        out.append(moment)
        moment -= STEP
    return sorted(out)


def mean_ndcg(
    scores: np.ndarray, y: np.ndarray, groups: Sequence[Any], subjects: Sequence[str]
) -> float:
    by_group: dict[Any, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        by_group[group].append(index)
    values = []
    for indices in by_group.values():
        relevant = {subjects[i] for i in indices if y[i]}
        if not relevant:
            continue
        order = sorted(indices, key=lambda i: (-scores[i], subjects[i]))
        values.append(ndcg_at([subjects[i] for i in order], relevant, 10))
    return mean(values) if values else 0.0


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
    moments = cutoffs(start, end - horizon)
    held_out_from = moments[int(len(moments) * 0.75)] if len(moments) >= 4 else end
    data = backtest.rows(snapshots, moments, horizon)
    results = []
    for kind, (x, y, groups, subjects) in data.items():
        train_mask = np.array([g[1] < held_out_from for g in groups], dtype=bool)
        test_mask = ~train_mask
        if y[train_mask].sum() < MIN_POSITIVES or y[test_mask].sum() == 0:
            results.append(
                KindResult(kind, False, f"too few positives ({int(y.sum())})", {"rows": len(y)})
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
        candidate_ndcg = mean_ndcg(
            model.predict_proba(x[test_mask])[:, 1], y[test_mask], test_groups, test_subjects
        )
        serving_ndcg = mean_ndcg(
            serving.score(x[test_mask]), y[test_mask], test_groups, test_subjects
        )
        metrics = {
            "ndcg@10_candidate": round(candidate_ndcg, 4),
            "ndcg@10_serving": round(serving_ndcg, 4),
            "serving": serving.version,
            "recipe": recipe,
            "train_rows": int(train_mask.sum()),
            "test_rows": int(test_mask.sum()),
            "training_seconds": round(seconds, 3),
            "feedback_rows": len(extra_y),
        }
        if candidate_ndcg <= serving_ndcg:
            results.append(KindResult(kind, False, "did not beat the serving model", metrics))
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
            feature_names=list(backtest.feature_names(kind)),
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
