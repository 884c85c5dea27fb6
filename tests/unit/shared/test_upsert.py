"""Bulk upserts: the COPY path on PostgreSQL writes exactly what executing the rows in order
would, JSON columns, repeated keys and partial updates included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from services.recommender.models import RecInteraction, RecOwnerState
from shared import database, unit_of_work
from shared.settings import DatabaseSettings
from shared.unit_of_work import upsert
from tests.conftest import unique

AT = datetime(2026, 3, 12, 9, tzinfo=UTC)
KEYS = ["owner_id", "interaction_id"]


def meeting(index: int, *people: str) -> dict:
    return {
        "owner_id": "o1",
        "interaction_id": f"i{index}",
        "occurred_at": AT + timedelta(days=index),
        "person_ids": list(people),
        "organizer_id": people[0] if people else None,
        "cancelled": False,
    }


@pytest.fixture
def engine(postgres: DatabaseSettings):
    """A schema of its own: the session's schema holds other tests' rows."""
    if not postgres.url:
        pytest.skip("needs PostgreSQL (COPY)")
    schema = unique("sb_upsert_")
    engine = database.make_engine(postgres.url, schema_name=schema)
    database.create_tables(engine, [RecInteraction, RecOwnerState])
    yield engine
    engine.dispose()
    with psycopg.connect(postgres.url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def table_rows(engine, table) -> list:
    with Session(engine) as session:
        return [r.model_dump() for r in session.exec(select(table)).all()]


def write(engine, copy_from: int, monkeypatch, steps) -> list[dict]:
    """Run ``steps`` (upsert calls) in one transaction with the COPY threshold at
    ``copy_from`` rows, and return what the table holds."""
    monkeypatch.setattr(unit_of_work, "COPY_FROM_ROWS", copy_from)
    with database.transaction(engine) as session:
        for table, rows, update in steps:
            upsert(session, table, rows, keys=KEYS, update=update)
    written = sorted(table_rows(engine, RecInteraction), key=lambda r: r["interaction_id"])
    with database.transaction(engine) as session:
        session.execute(RecInteraction.__table__.delete())  # type: ignore[attr-defined]
    return written


def test_copy_writes_what_executing_the_rows_in_order_writes(engine, monkeypatch) -> None:
    batch = [meeting(i % 30, f"p{i}", "anna") for i in range(45)]  # 15 keys written twice
    steps = [
        (RecInteraction, batch, None),
        (RecInteraction, [meeting(i, "bo") for i in range(25, 40)], []),  # new keys only land
        (RecInteraction, [meeting(i, "cy") for i in range(20)], ["person_ids"]),
    ]
    by_copy = write(engine, 1, monkeypatch, steps)
    one_by_one = write(engine, 10**6, monkeypatch, steps)
    assert by_copy == one_by_one
    assert len(by_copy) == 40
    first = by_copy[0]
    assert (first["interaction_id"], first["person_ids"]) == ("i0", ["cy"])
    assert first["organizer_id"] == "p30"  # the partial update left it as the batch wrote it
    assert [r["person_ids"] for r in by_copy if r["interaction_id"] == "i29"] == [["p29", "anna"]]
    assert [r["person_ids"] for r in by_copy if r["interaction_id"] == "i35"] == [["bo"]]


def test_upsert_later_keeps_the_first_row_when_existing_rows_stay(engine) -> None:
    with database.transaction(engine) as session:
        session.upsert_later(RecInteraction, [meeting(1, "anna")], keys=KEYS, update=[])
        session.upsert_later(RecInteraction, [meeting(1, "bo")], keys=KEYS, update=[])
        session.upsert_later(RecInteraction, [meeting(2, "anna")], keys=KEYS)
        session.upsert_later(RecInteraction, [meeting(2, "bo")], keys=KEYS)
    written = {r["interaction_id"]: r["person_ids"] for r in table_rows(engine, RecInteraction)}
    assert written == {"i1": ["anna"], "i2": ["bo"]}


def row_versions(engine) -> dict[str, str]:
    """interaction id -> the transaction that wrote the row's current version (``xmin``)."""
    with Session(engine) as session:
        rows = session.execute(text("SELECT interaction_id, xmin::text FROM rec_interaction"))
        return dict(rows.all())


@pytest.mark.parametrize("copy_from", [1, 10**6], ids=["copy", "executemany"])
def test_a_row_sent_again_unchanged_is_not_rewritten(engine, monkeypatch, copy_from) -> None:
    monkeypatch.setattr(unit_of_work, "COPY_FROM_ROWS", copy_from)
    first = [meeting(i, "anna", "bo") for i in range(4)]
    first[3]["organizer_id"] = None
    with database.transaction(engine) as session:
        upsert(session, RecInteraction, first, keys=KEYS)
    before = row_versions(engine)
    again = [dict(row) for row in first]
    again[1]["person_ids"] = ["anna", "cy"]  # a JSON column changed
    again[2]["cancelled"] = True  # a plain one
    again[3]["organizer_id"] = "bo"  # NULL to a value
    with database.transaction(engine) as session:
        upsert(session, RecInteraction, again, keys=KEYS)
    after = row_versions(engine)
    assert after["i0"] == before["i0"]  # the same row: no new version
    assert all(after[i] != before[i] for i in ("i1", "i2", "i3"))
    written = {r["interaction_id"]: r for r in table_rows(engine, RecInteraction)}
    assert written["i1"]["person_ids"] == ["anna", "cy"]
    assert written["i2"]["cancelled"] is True
    assert written["i3"]["organizer_id"] == "bo"


def test_a_staging_table_undone_by_a_rollback_is_made_again(engine, monkeypatch) -> None:
    """The staging table is created once per connection; a rolled-back transaction takes
    its creation with it, and the next upsert on that connection must not count on it."""
    monkeypatch.setattr(unit_of_work, "COPY_FROM_ROWS", 1)
    engine.pool.dispose()  # one fresh connection from here on

    def fail_after_the_first_upsert() -> None:
        with database.transaction(engine) as session:
            upsert(session, RecInteraction, [meeting(1, "anna")], keys=KEYS)
            raise RuntimeError("the batch failed after its first upsert")

    with pytest.raises(RuntimeError, match="after its first upsert"):
        fail_after_the_first_upsert()
    for index in (2, 3):  # created again, then reused
        with database.transaction(engine) as session:
            upsert(session, RecInteraction, [meeting(index, "bo")], keys=KEYS)
    with Session(engine) as session:
        temporary = session.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relname = '_staging_rec_interaction'"
                " AND relnamespace = pg_my_temp_schema()"
            )
        ).scalar()
    assert temporary == 1  # this connection's, made once
    assert {r["interaction_id"] for r in table_rows(engine, RecInteraction)} == {"i2", "i3"}
