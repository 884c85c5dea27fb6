"""Springboard's benchmark suite on the embedded broker, measured in one run.

``python -m bench [--json] [--quick]`` (``make bench``) prints one table, or one JSON object:
- pipeline_msgs_per_s, passthrough_msgs_per_s, pipeline_ratio, latency_ms_p50,
  latency_ms_p99, debounce_ms, scaleout_ratio: ``bench.pipeline`` (with cpu_s_ingest,
  cpu_s_recommender, cpu_s_notifier and cpu_s_broker: where the cores went);
- score_s_1k, score_s_10k, score_s_100k, score_s_1m, train_rows_per_s: ``bench.scoring``;
- rss_mb_recommender_1m: ``bench.memory`` (store_persons: how many persons its store held;
  --quick: 50,000);
- cpu_count and the machine's memory, since every figure depends on them.
Each part also runs alone (``python -m bench.pipeline`` …) and prints more detail.
"""

from __future__ import annotations

import os
from typing import Any

from bench import memory, pipeline, report, scoring

SUITE_KEYS = (
    "pipeline_msgs_per_s",
    "passthrough_msgs_per_s",
    "pipeline_ratio",
    "latency_ms_p50",
    "latency_ms_p99",
    "debounce_ms",
    "score_s_1k",
    "score_s_10k",
    "score_s_100k",
    "score_s_1m",
    "train_rows_per_s",
    "rss_mb_recommender_1m",
    "scaleout_ratio",
)


def machine() -> dict[str, Any]:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {"cpu_count": os.cpu_count() or 0, "memory_gb": round(pages * page_size / 2**30, 1)}


async def measure(quick: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    figures.update(await pipeline.measure(quick))
    figures.update(scoring.measure(quick))
    figures.update(await memory.measure(quick))
    ordered = {key: figures[key] for key in SUITE_KEYS}
    extra = {"pipeline_inputs": figures["input_messages"], "store_persons": figures["persons"]}
    extra |= {
        key: value
        for key, value in figures.items()
        if key.startswith(("cpu_s_", "pipeline_ratio_"))
    }
    return {**ordered, **extra, **machine()}


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
