"""Each benchmark's quick mode runs and prints every figure it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.bench


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


def test_the_suite_runs_on_the_broker_and_prints_every_key() -> None:
    from bench.__main__ import SUITE_KEYS

    figures = quick_run("bench")
    for key in SUITE_KEYS:
        assert isinstance(figures[key], int | float), key
        assert figures[key] > 0, key
    assert figures["cpu_count"] > 0
    assert figures["store_persons"] > 0
    for process in ("ingest", "recommender", "notifier", "broker"):
        assert figures[f"cpu_s_{process}"] > 0, process  # each did some of the work
    # With an odd number of pairs, some pair lies on each side of the medians' quotient.
    lowest, highest = figures["pipeline_ratio_lowest"], figures["pipeline_ratio_highest"]
    assert 0 < lowest <= figures["pipeline_ratio"] <= highest


def test_the_stage_benchmark_runs_without_a_broker() -> None:
    figures = quick_run("bench.stages")
    for key in ("ingest_msgs_per_s", "projection_changes_per_s", "import_rows_per_s"):
        assert figures[key] > 0


def test_the_batch_path_benchmark_feeds_ingest_and_then_the_recommender() -> None:
    figures = quick_run("bench.batch_path")
    assert figures["ingest_inputs"] > 0
    assert figures["ingest_cpu_s"] > 0
    assert 0 < figures["ingest_first_batches_cpu_s"] <= figures["ingest_cpu_s"]
    assert figures["ingest_young_collections"] >= 0
    assert figures["ingest_gc_s"] >= 0
    # The recommender was fed what ingest made of the inputs.
    assert figures["recommender_updates"] > 0
    assert figures["recommender_cpu_s"] > 0
    # The same inputs again make the same updates (a replay changes nothing twice).
    assert figures["recommender_replay_updates"] == figures["recommender_updates"]
    for stage in ("ingest", "recommender"):
        assert figures[f"{stage}_replay_cpu_s"] > 0
        assert figures[f"{stage}_replay_wait_s"] >= 0


def test_the_fetch_wait_probe_times_records_reaching_a_waiting_consumer() -> None:
    from bench.fetch_wait import WAITS_MS

    figures = quick_run("bench.fetch_wait")
    for wait in WAITS_MS:
        median, longest = (
            figures[f"delay_ms_median_wait_{wait}"],
            figures[f"delay_ms_max_wait_{wait}"],
        )
        assert 0 < median <= longest, wait


def test_the_evaluation_table_covers_the_simulator_southern_women_and_a_real_history() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.evaluation", "--quick", "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert {r["data_set"] for r in rows} >= {
        "Southern Women (networkx)",
        "hospital ward contacts (SocioPatterns)",
    }
    assert any(r["data_set"].startswith("simulator") for r in rows)
    hospital = {r["kind"]: r for r in rows if r["data_set"].startswith("hospital")}
    assert set(hospital) == {"reconnect", "introduction"}
    for row in hospital.values():
        assert row["outcomes"] >= row["outcomes_outside_candidates"] >= 0
        assert 0.0 <= row["ndcg@10"]["served"] <= 1.0
    for row in rows:
        assert 0.0 <= row["ndcg@10"]["model"] <= 1.0
        assert "random" in row["ndcg@10"]
        assert row["rankings"] >= row["owners"] >= 1  # owners at several cut-offs
        assert len(row["model_versions"]) == len(row["cutoffs"]) >= 2
        low, high = row["model_minus_best"]["ci95"]
        assert low <= row["model_minus_best"]["ndcg@10"] <= high


def test_the_chaos_run_kills_services_and_loses_nothing_of_any_kind() -> None:
    figures = quick_run("bench.chaos")
    assert figures["kills"] >= 10
    for kind, counts in figures["kinds"].items():
        assert counts["sent"] > 0, kind
        assert counts["ingest"] == counts["sent"], kind
    for table, counts in figures["projection"].items():
        assert counts["recommender"] == counts["ingest"] > 0, table
    assert figures["lost"] == 0
    assert figures["dead_lettered"] == figures["invalid"] > 0
    assert figures["ranked_owners"] == figures["owners"]
    assert figures["suggestions"] > 0
    assert figures["suggestion_duplicates"] == 0
    # At least once: every suggestion reaches the webhook; a repeat carries its key again.
    assert figures["deliveries"] == figures["suggestions"]
    assert figures["delivery_requests"] == figures["deliveries"] + figures["delivery_duplicates"]


def test_the_hostile_import_benchmark_refuses_each_hostile_file_and_imports_the_rest() -> None:
    figures = quick_run("bench.hostile_imports")
    refused = ("rrule_byhour_byminute", "rrule_bysecond", "daily_from_year_1", "calendar_1gb")
    for case in (*refused, "calendar_as_vcard"):
        assert figures[case]["exit"] == 1, case
        assert not figures[case]["counts"], case
    assert figures["photo_10mb"]["counts"] == {"contacts": 2}
    assert figures["daily_series_2000"]["exit"] == 0
    assert figures["events_4778"]["counts"]["meetings"] > 0
    for case, result in figures.items():
        assert result["seconds"] > 0, case
        assert result["rss_mb"] > 0, case


def test_the_meeting_trace_follows_one_meeting_to_a_suggestion_and_its_signed_webhook() -> None:
    from bench.trace_meeting import measure

    figures = measure()
    assert figures["suggestions"] >= 1
    assert figures["webhooks_delivered"] >= 1
    assert figures["webhooks_received_signed"] == figures["webhooks_delivered"]
    files = set(figures["file_list"])
    for step in (
        "services/ingest/parsers/ics.py",
        "services/ingest/publishing.py",
        "services/recommender/store.py",
        "services/recommender/scoring.py",
        "services/notifier/choosing.py",
        "services/notifier/delivery/webhook.py",
    ):
        assert step in files, step
    assert 0 < figures["to_suggestion"]["files"] < figures["files"]
    assert figures["crossings_shared_services"] > 0
    from services.ingest import importer
    from shared.client import Producer

    assert importer.Producer is Producer  # the trace's stand-in producer does not stay


def test_the_per_owner_costs_are_measured_and_carried_to_a_million_owners() -> None:
    figures = quick_run("bench.per_owner")
    per_owner = figures["per_owner"]
    for key in ("inputs", "ingest_cpu_s", "recommender_cpu_s", "score_cpu_s", "bytes"):
        assert per_owner[key] > 0, key
    assert figures["rows_per_owner"]["ingest_person"] > 0
    assert set(figures["at"]) == {"10,000", "100,000", "1,000,000"}
    million = figures["at"]["1,000,000"]["postgres_gb"]
    assert million == pytest.approx(per_owner["bytes"] * 1e6 / 1e9, rel=0.01)


def test_the_sync_benchmark_syncs_a_calendar_whole_then_reads_only_the_report() -> None:
    figures = quick_run("bench.dav_sync")
    assert figures["first_published"] == figures["events"]
    assert figures["first_requests"]["multiget"] >= 1
    assert figures["no_change_published"] == 0
    assert figures["no_change_requests"] == {"sync-collection": 1}


def test_the_latency_benchmark_runs_alone() -> None:
    figures = quick_run("bench.latency")
    assert figures["latency_owners"] == 10
    assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p99"] <= figures["latency_ms_max"]


def test_the_owner_page_benchmark_loads_the_page_in_chromium() -> None:
    from bench.browser import installed

    if not installed():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (apt-get install chromium)")
        pytest.skip("no Chromium (apt-get install chromium)")
    figures = quick_run("bench.owner_page")
    assert figures["suggestions_shown"] > 0
    assert 0 < figures["page_html_ms_p50"] <= figures["first_view_ms_p50"]
    assert figures["page_bytes"] > 0


def test_the_reconnect_signals_rank_the_candidates_springboard_evaluate_ranks() -> None:
    """The signal table builds its snapshots straight from the meetings; the replay through
    ingest must give the same rankings, so its baselines and prior are evaluate's."""
    from bench import evaluation
    from services.offline import evaluate

    out = subprocess.run(
        [sys.executable, "-m", "bench.reconnect_signals", "--only", "hospital", "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    signals = json.loads(out.stdout)
    hospital = evaluation.real("hospital")
    report = evaluate.run_envelopes(
        hospital.envelopes(), cutoff=hospital.cutoffs, horizon=hospital.horizon
    )
    replayed = report["kinds"]["reconnect"]
    assert signals["rankings"] == replayed["rankings"]
    for ours, theirs in (
        ("most recent", "most_recent"),
        ("most frequent", "most_frequent"),
        ("prior", "prior"),
    ):
        # Ties are broken by person id in one and by the data set's name in the other.
        assert abs(signals["ndcg@10"][ours] - replayed["rankers"][theirs]["ndcg@10"]) < 0.005
    assert signals["hindsight"]["ndcg@10"] >= max(
        v for k, v in signals["ndcg@10"].items() if k.startswith("rate, half-life")
    )
