"""What one owner costs, measured, and that cost carried to 10k, 100k and 1M owners.

``python -m bench.per_owner [--quick] [--json]``. Sample networks of several owners go
through ingest's and the recommender's handlers on PostgreSQL (as in ``bench.batch_path``),
then every owner is scored once, as the daily refresh does. Measured: CPU-seconds per input
in ingest and per network update in the recommender, CPU-seconds to score one owner, and
the rows and bytes (tables and indexes, ``pg_total_relation_size``, less what the empty
tables take) each owner leaves in PostgreSQL. The extrapolation multiplies those by the number of owners; it assumes the
sample network's size (about 5,500 inputs an owner at scale 1, a busy professional's
several years) and that the costs stay linear, which holds while an owner's queries use
their indexes (every query is by ``owner_id``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import psycopg

from bench import report
from bench.batch_path import Recorded, as_records, cpu_and_wait_s, feed, runtime_for
from bench.pipeline import sample_inputs
from bench.processes import POSTGRES, drop_schema
from services.ingest import main as ingest_main
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.recommender import main as recommender_main
from services.recommender.models import TABLES as RECOMMENDER_TABLES
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared import topics
from shared.unit_of_work import UnitOfWork

OWNERS_AT = (10_000, 100_000, 1_000_000)
DAY_S = 86_400.0


def table_sizes(schema: str) -> dict[str, tuple[int, int]]:
    """Table -> (rows, bytes with indexes and TOAST) in ``schema``."""
    with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            )
        ]
        out = {}
        for name in names:
            table = f'"{schema}"."{name}"'
            counted = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            sized = connection.execute(
                "SELECT pg_total_relation_size(%s::regclass)", (table,)
            ).fetchone()
            assert counted is not None
            assert sized is not None
            out[name] = (int(counted[0]), int(sized[0]))
        return out


def score_everyone(recommender: Any, owners: list[str]) -> float:
    """CPU-seconds to score every owner once (the daily refresh's work)."""
    settings = RecommenderSettings(database=recommender.settings.database)
    scheduler = Scheduler(recommender, settings)
    started = time.process_time()
    for owner in owners:
        asyncio.run(scheduler.score_owners([owner]))
    return time.process_time() - started


def measure(quick: bool) -> dict[str, Any]:
    owners = 4 if quick else 12
    scale = 0.25 if quick else 1.0
    inputs = as_records(sample_inputs(owners, scale, "owner"))
    schema = f"sb_owner_{uuid.uuid4().hex[:8]}"
    out: dict[str, Any] = {"owners": owners, "scale": scale, "inputs": len(inputs)}
    runtimes = []
    try:
        ingest = runtime_for("ingest", INGEST_TABLES, schema, IngestWork)
        recommender = runtime_for("recommender", RECOMMENDER_TABLES, schema, UnitOfWork)
        runtimes += [ingest, recommender]
        empty = table_sizes(schema)
        ingest_main.router(ingest)
        recommender_main.router(recommender, on_applied=lambda _owners: None)
        made = Recorded()
        ingest.publisher = made  # type: ignore[assignment]
        ingest_cpu, _, _ = cpu_and_wait_s(feed(ingest, inputs))
        updates = as_records(
            (topics.NETWORK_UPDATES, key, value)
            for key, value in zip(made.keys, made.values, strict=True)
        )
        recommender_cpu, _, _ = cpu_and_wait_s(feed(recommender, updates))
        names = [f"owner-{i}" for i in range(owners)]
        score_cpu = score_everyone(recommender, names)
        sizes = table_sizes(schema)
    finally:
        for runtime in runtimes:
            runtime.database.engine.dispose()
        drop_schema(schema)
    # What the owners added: an empty table and its indexes take a few pages already.
    total_bytes = sum(size - empty.get(name, (0, 0))[1] for name, (_, size) in sizes.items())
    per_owner = {
        "inputs": len(inputs) / owners,
        "ingest_cpu_s": ingest_cpu / owners,
        "recommender_cpu_s": recommender_cpu / owners,
        "score_cpu_s": score_cpu / owners,
        "bytes": total_bytes / owners,
    }
    out["per_owner"] = {k: round(v, 4) for k, v in per_owner.items()}
    out["rows_per_owner"] = {
        name: round(rows / owners, 1) for name, (rows, _) in sorted(sizes.items()) if rows
    }
    out["at"] = {
        f"{n:,}": {
            "postgres_gb": round(per_owner["bytes"] * n / 1e9, 1),
            # Everyone re-scored once a day (refresh_hours=24): cores kept busy by it.
            "refresh_cores": round(per_owner["score_cpu_s"] * n / DAY_S, 2),
            # Every owner's history imported once: core-hours of ingest and the recommender.
            "import_core_hours": round(
                (per_owner["ingest_cpu_s"] + per_owner["recommender_cpu_s"]) * n / 3600, 1
            ),
        }
        for n in OWNERS_AT
    }
    return out


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
