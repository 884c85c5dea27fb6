from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def quick_run(module: str) -> dict[str, Any]:
    """Run a benchmark's quick mode and return the JSON object it printed."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--quick", "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(out.stdout)


def test_the_benchmark_runs_and_prints_every_figure() -> None:
    figures = quick_run("bench")
    for key in (
        "ingest_msgs_per_s",
        "projection_changes_per_s",
        "score_owner_s",
        "prior_score_s_1000",
    ):
        assert figures[key] > 0


def test_the_ingest_benchmark_runs_on_the_broker_and_prints_its_ratio() -> None:
    figures = quick_run("bench.ingest")
    for key in ("ingest_msgs_per_s", "passthrough_msgs_per_s", "ratio", "import_rows_per_s"):
        assert figures[key] > 0


def test_the_scoring_benchmark_runs_and_prints_its_figures() -> None:
    figures = quick_run("bench.scoring")
    for key in ("train_rows_per_s", "score_s_1000", "score_s_10000", "recommend_s", "rss_mb"):
        assert figures[key] > 0


def test_the_chaos_run_kills_services_and_loses_nothing() -> None:
    figures = quick_run("bench.chaos")
    assert figures["kills"] >= 10 and figures["inputs"] > 0
    assert figures["lost"] == 0
    assert figures["dead_lettered"] == figures["invalid"] > 0
    assert figures["suggestions"] > 0 and "duplicates" in figures
