"""Scoring and training speed of the recommender's models, measured in one run.

``python -m bench.scoring [--json] [--quick]`` prints:
- score_s_<n>: seconds for the learned reconnect model, logistic recipe (boosted_score_s_<n>
  for the boosted recipe, prior_score_s_<n> for the prior) to score n candidates of one
  owner (n = 1k, 10k, 100k, 1m); training picks the recipe per kind;
- recommend_s: candidates, features, scores, re-ranking and reasons for the sample owner;
- network_map_s: the network map published with that owner's list (after it: the tie
  strengths it reads are the ones scoring already computed);
- train_rows_per_s: backtest rows per second through fitting the reconnect pipeline;
- rss_mb: peak resident memory of this process.
"""

from __future__ import annotations

import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench import report
from services.offline.replay import in_memory_snapshot
from services.recommender import backtest, network_map
from services.recommender.rankers import LearnedRanker, PriorRanker, build_pipeline
from services.recommender.scoring import recommend
from shared.messages.recommendations import SuggestionKind
from shared.sample_network import generate

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def sample_snapshot(scale: float) -> Any:
    network = generate(now=NOW, scale=scale)
    return in_memory_snapshot((e for _, e in network.messages), owner_id=network.owner_id, now=NOW)


def measure(quick: bool) -> dict[str, float]:
    snapshot = sample_snapshot(0.5 if quick else 1.0)
    kind = SuggestionKind.RECONNECT
    cutoffs = [NOW - timedelta(days=30 + 14 * i) for i in range(20 if quick else 60)]
    started = time.perf_counter()
    x, y, _, _ = backtest.rows([snapshot], cutoffs, timedelta(days=30))[kind]
    pipeline = build_pipeline(kind, recipe="logistic").fit(x, y)
    train_s = time.perf_counter() - started
    model, prior = LearnedRanker(pipeline, "bench"), PriorRanker(kind)
    boosted = LearnedRanker(build_pipeline(kind, recipe="boosted").fit(x, y), "bench-boosted")
    results: dict[str, float] = {
        "train_rows": float(len(y)),
        "train_rows_per_s": round(len(y) / train_s, 1),
    }
    rng = np.random.default_rng(0)
    sizes = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
    for label, n in sizes.items():
        matrix = rng.random((n, x.shape[1])) * x.max(axis=0)
        rankers = (("score_s", model), ("boosted_score_s", boosted), ("prior_score_s", prior))
        for name, ranker in rankers:
            started = time.perf_counter()
            ranker.score(matrix)
            results[f"{name}_{label}"] = round(time.perf_counter() - started, 4)
    started = time.perf_counter()
    recommend(snapshot, per_kind=10, max_per_company=2, models={kind: model})
    results["recommend_s"] = round(time.perf_counter() - started, 4)
    started = time.perf_counter()
    network_map.summary(network_map.build(snapshot))
    results["network_map_s"] = round(time.perf_counter() - started, 4)
    results["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
