from __future__ import annotations

import json
import subprocess
import sys


def test_the_benchmark_runs_and_prints_every_figure() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = json.loads(out.stdout)
    for key in (
        "ingest_msgs_per_s",
        "projection_changes_per_s",
        "score_owner_s",
        "prior_score_s_1000",
    ):
        assert figures[key] > 0
