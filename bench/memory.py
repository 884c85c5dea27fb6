"""Resident memory of the recommender with a million persons in its store.

``python -m bench.memory [--json] [--quick]`` builds a recommender store (its SQLite file,
the embedded default) of 1,000,000 persons: one sample owner's projected network copied to
as many owners as it takes. A sample of owners is due for re-scoring, as on a daily
refresh; the recommender runs as its own process on the embedded broker and scores them.
It prints:
- persons / owners in the store, owners_scored;
- rss_mb_recommender_1m: the recommender process's peak resident memory (VmHWM).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import report
from bench.processes import ServiceProcess, service_env, wait_ready
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.offline.replay import project
from services.recommender.models import TABLES as REC_TABLES
from services.recommender.models import RecOwnerState
from shared import database
from shared.broker import ensure_topics
from shared.embedded_broker import EmbeddedBroker
from shared.sample_network import generate
from shared.settings import KafkaSettings

TEMPLATE = "template-owner"
# Every table keyed by owner, copied per owner (rec_owner_state is written separately).
COPIED = ("rec_person", "rec_interaction", "rec_event", "rec_attendance", "rec_goals", "rec_favour")


def build_store(path: Path, persons: int, due: int, now: datetime) -> tuple[int, int]:
    """Fill ``path`` with at least ``persons`` persons; returns (persons, owners)."""
    engine = database.make_engine(f"sqlite:///{path}")
    database.create_tables(engine, INGEST_TABLES + REC_TABLES)
    with database.transaction(engine, IngestWork) as session:
        for _topic, envelope in generate(owner_id=TEMPLATE, now=now, scale=2.0).messages:
            project(session, owner_id=TEMPLATE, source=envelope.source, data=envelope.data)
    engine.dispose()
    with sqlite3.connect(path) as db:
        per_owner = db.execute("SELECT count(*) FROM rec_person").fetchone()[0]
        owners = math.ceil(persons / per_owner)
        for table in COPIED:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            rest = ", ".join(c for c in columns if c != "owner_id")
            for index in range(1, owners):
                db.execute(
                    f"INSERT INTO {table} (owner_id, {rest}) "
                    f"SELECT 'owner-{index}', {rest} FROM {table} WHERE owner_id = ?",
                    (TEMPLATE,),
                )
        total = db.execute("SELECT count(*) FROM rec_person").fetchone()[0]
    ids = [TEMPLATE] + [f"owner-{i}" for i in range(1, owners)]
    engine = database.make_engine(f"sqlite:///{path}")
    with database.transaction(engine) as session:
        for index, owner_id in enumerate(ids):
            session.add(
                RecOwnerState(
                    owner_id=owner_id,
                    changed_at=now - timedelta(hours=1),
                    scored_at=None if index < due else now,
                )
            )
    engine.dispose()
    return total, owners


def waiting(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM rec_owner_state WHERE scored_at IS NULL"
        ).fetchone()
    return int(count)


async def measure(quick: bool) -> dict[str, Any]:
    persons, due = (50_000, 10) if quick else (1_000_000, 100)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch, EmbeddedBroker() as broker:
        data_dir = Path(scratch)
        total, owners = build_store(data_dir / "recommender.db", persons, due, now)
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="mem.")
        await ensure_topics(kafka)
        env = service_env(
            kafka, SPRINGBOARD_DATA_DIR=str(data_dir), SPRINGBOARD_DEBOUNCE_SECONDS="0"
        )
        recommender = ServiceProcess("recommender", env)
        try:
            await wait_ready([recommender])
            idle_mb = recommender.peak_rss_mb()
            started = time.perf_counter()
            while waiting(data_dir / "recommender.db") and time.perf_counter() - started < 600:
                await asyncio.sleep(0.5)
            scoring_s = time.perf_counter() - started
            peak_mb = recommender.peak_rss_mb()
        finally:
            recommender.kill()
    return {
        "persons": total,
        "owners": owners,
        "owners_scored": due,
        "scoring_s": round(scoring_s, 1),
        "rss_mb_recommender_idle": round(idle_mb, 1),
        "rss_mb_recommender_1m": round(peak_mb, 1),
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
