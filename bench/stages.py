"""Stage benchmarks on one machine, measured in one run, without a broker.

``python -m bench.stages [--json] [--quick]`` prints:
- ingest_msgs_per_s: raw input messages turned into canonical changes (SQLite in memory)
- projection_changes_per_s: canonical changes projected into the recommender's tables
- score_owner_s: load one owner's snapshot, generate candidates, score, re-rank, explain
- prior_score_s_<n>: the prior scoring n candidates (one owner)
- import_rows_per_s: Outlook CSV rows parsed by the importer (dry run)
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench import report
from services.ingest import canonical
from services.ingest.importer import ImportKind, parse
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.recommender import rankers, store
from services.recommender.models import TABLES as REC_TABLES
from services.recommender.scoring import recommend
from shared import database
from shared.messages.recommendations import SuggestionKind
from shared.sample_network import generate


def import_rows_per_s(rows: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "outlook.csv"
        with path.open("w") as handle:
            handle.write(
                "First Name,Last Name,Company,Job Title,Business Phone,E-mail Address,Business City\n"
            )
            for i in range(rows):
                handle.write(
                    f"Anna{i},Berg,Nordbank AB,CFO,+46 70 123 {i % 100:02d} {i % 97:02d},"
                    f"anna{i}@nordbank.example,Stockholm\n"
                )
        started = time.perf_counter()
        with path.open("rb") as handle:
            parsed = sum(1 for _ in parse(ImportKind.csv, handle))
        elapsed = time.perf_counter() - started
    assert parsed == rows
    return rows / elapsed


def measure(quick: bool) -> dict[str, float | int | str]:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    network = generate(now=now, scale=0.5 if quick else 2.0)
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, INGEST_TABLES + REC_TABLES)

    started = time.perf_counter()
    changes = []
    with database.transaction(engine, IngestWork) as session:
        for _topic, envelope in network.messages:
            for change in canonical.apply(
                session, owner_id=envelope.owner_id, source=envelope.source, data=envelope.data
            ):
                changes.append((envelope.owner_id, change))
    ingest_s = time.perf_counter() - started

    started = time.perf_counter()
    with database.transaction(engine, IngestWork) as session:
        store.apply_changes(session, changes)
    projection_s = time.perf_counter() - started

    started = time.perf_counter()
    with database.transaction(engine, IngestWork) as session:
        snapshot = store.load_snapshot(session, owner_id=network.owner_id, now=now)
        made = recommend(snapshot, per_kind=10, max_per_company=2)
    score_owner_s = time.perf_counter() - started

    results: dict[str, float | int | str] = {
        "cpu_count": os.cpu_count() or 0,
        "input_messages": len(network.messages),
        "ingest_msgs_per_s": round(len(network.messages) / ingest_s, 1),
        "projection_changes_per_s": round(len(changes) / projection_s, 1),
        "score_owner_s": round(score_owner_s, 4),
        "ranked_items": len(made.items),
    }
    model = rankers.prior_for(SuggestionKind.RECONNECT)
    rng = np.random.default_rng(0)
    for n in (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000):
        matrix = rng.random((n, len(rankers.FEATURES[SuggestionKind.RECONNECT])))
        started = time.perf_counter()
        model.predict(matrix)
        results[f"prior_score_s_{n}"] = round(time.perf_counter() - started, 5)
    results["import_rows_per_s"] = round(import_rows_per_s(5_000 if quick else 50_000), 1)
    return results


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
