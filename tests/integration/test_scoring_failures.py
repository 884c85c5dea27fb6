"""One owner's unreadable record is that owner's problem alone: on real PostgreSQL, a row
dated in the year 10000 (stored by the database, unreadable by the driver) stops neither
the other owners scored in the same round nor the loop; the owner is counted and put off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.recommender.models import TABLES
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared import database
from shared.messages.inputs import MeetingRecorded
from shared.service import ServiceRuntime
from shared.settings import DatabaseSettings
from shared.unit_of_work import UnitOfWork

pytestmark = pytest.mark.integration


class Published:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def publish_all(self, messages: Any) -> None:
        self.envelopes += [envelope for _, envelope in messages]


@pytest.fixture
def scheduler(postgres: DatabaseSettings, tmp_path: Path) -> Scheduler:
    if not postgres.url:
        pytest.skip("needs PostgreSQL: SQLite cannot store a year-10000 time")
    settings = RecommenderSettings(data_dir=tmp_path, database=postgres, debounce_seconds=0)
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    runtime.database.open()
    runtime.publisher = Published()  # type: ignore[assignment]
    return Scheduler(runtime, settings)


def _seed(engine: Any, owner_id: str, occurred_at: str) -> None:
    changed = datetime.now(UTC) - timedelta(minutes=5)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rec_owner_state (owner_id, changed_at) VALUES (:o, :c) "
                "ON CONFLICT (owner_id) DO UPDATE SET changed_at = :c"
            ),
            {"o": owner_id, "c": changed},
        )
        connection.execute(
            text(
                "INSERT INTO rec_interaction (owner_id, interaction_id, occurred_at, "
                "person_ids, cancelled) VALUES (:o, 'i1', CAST(:t AS timestamptz), '[]', false)"
            ),
            {"o": owner_id, "t": occurred_at},
        )


async def test_an_unreadable_row_stops_only_its_own_owner(scheduler: Scheduler) -> None:
    engine = scheduler.runtime.database.engine
    try:
        await _one_round(scheduler, engine)
    finally:  # the schema is the session's: leave no poisoned row for other tests
        with engine.begin() as connection:
            for table in ("rec_interaction", "rec_owner_state", "rec_issued"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE owner_id IN ('poisoned', 'healthy')")
                )


async def _one_round(scheduler: Scheduler, engine: Any) -> None:
    _seed(engine, "poisoned", "10000-01-01T00:00:00+00:00")
    _seed(engine, "healthy", "2026-11-01T09:00:00+00:00")
    published = scheduler.runtime.publisher

    await scheduler.score_owners(["poisoned", "healthy"])
    assert [e.owner_id for e in published.envelopes] == ["healthy"]  # type: ignore[attr-defined]
    assert scheduler.failures.failures._value.get() == 1
    assert scheduler.failures.failing._value.get() == 1
    assert not scheduler.failures.may_try("poisoned")  # put off: not retried every second
    assert scheduler.failures.may_try("healthy")
    with database.transaction(engine) as session:
        scored = session.exec(
            text(
                "SELECT owner_id FROM rec_owner_state WHERE scored_at IS NOT NULL "
                "AND owner_id IN ('poisoned', 'healthy')"
            )
        )
        assert [row[0] for row in scored] == ["healthy"]


def test_such_a_time_is_refused_at_the_door() -> None:
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-11:00"):
        with pytest.raises(ValueError, match="outside the supported range"):
            MeetingRecorded(external_id="m", starts_at=moment)
