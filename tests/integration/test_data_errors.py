"""A record the database refuses is told apart from a database that is down, on real
PostgreSQL: the first is dead-lettered, the second retried. Neither error carries the
record's values, and internal messages bound their ids as input messages do."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared import database
from shared.embedded_broker import free_port
from shared.messages.recommendations import RankedItem, RecommendationsMade
from shared.settings import DatabaseSettings

pytestmark = pytest.mark.integration


def test_an_index_row_too_large_is_a_data_error_not_an_outage(postgres: DatabaseSettings) -> None:
    if not postgres.url:
        pytest.skip("needs PostgreSQL")
    engine = database.make_engine(postgres.url, schema_name=postgres.schema_name)
    secret = os.urandom(4000).hex()  # 8,000 characters that no compression shrinks enough
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS big_ids (id text PRIMARY KEY)"))
    with pytest.raises(OperationalError) as raised, engine.begin() as connection:
        connection.execute(text("INSERT INTO big_ids (id) VALUES (:id)"), {"id": secret})
    assert raised.value.orig.sqlstate.startswith("54")  # type: ignore[union-attr]
    assert not database.is_outage(raised.value)
    assert secret not in str(raised.value)  # hide_parameters: the value stays out of logs


def test_a_database_that_is_down_is_an_outage() -> None:
    engine = database.make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    with pytest.raises(OperationalError) as raised, engine.connect():
        pass
    assert database.is_outage(raised.value)


def test_internal_ids_are_bounded_like_input_ids() -> None:
    item = {
        "suggestion_id": "s" * 8000,
        "kind": "reconnect",
        "subject_id": "p-1",
        "subject_name": "Ann",
        "score": 0.5,
        "rank": 1,
        "reasons": ["Met often."],
    }
    with pytest.raises(ValidationError, match="suggestion_id"):
        RankedItem.model_validate(item)
    with pytest.raises(ValidationError):
        RecommendationsMade.model_validate(
            {
                "model_version": "prior-3",
                "generated_at": datetime.now(UTC),
                "items": [{**item, "suggestion_id": "s1", "subject_name": "A" * 5000}],
            }
        )


async def test_a_refused_record_is_dead_lettered_with_no_personal_data_and_the_rest_applied(
    postgres: DatabaseSettings, tmp_path
) -> None:
    from aiokafka.structs import ConsumerRecord

    from shared.broker import Decoded
    from shared.messages import ContactUpserted, wrap
    from shared.service import ServiceRuntime
    from shared.settings import SpringboardSettings
    from shared.unit_of_work import UnitOfWork

    if not postgres.url:
        pytest.skip("needs PostgreSQL")
    runtime = ServiceRuntime(
        "test", SpringboardSettings(data_dir=tmp_path, database=postgres), (), UnitOfWork
    )
    runtime.database.open()
    with runtime.database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS names (name text PRIMARY KEY)"))
    secret = "Anna Berg " + os.urandom(4000).hex()

    def item(name: str) -> Decoded:
        envelope = wrap(ContactUpserted(external_id="c", full_name="x"), owner_id="o", source="t")
        record = ConsumerRecord("t", 0, 0, 0, 0, b"o", b"{}", None, 1, 2, [])
        return Decoded("t", record, envelope.model_copy(update={"correlation_id": name}))

    def apply(session, batch):
        for each in batch:
            session.execute(
                text("INSERT INTO names VALUES (:n)"), {"n": each.envelope.correlation_id}
            )
        return [each.envelope.correlation_id for each in batch]

    applied, rejected = await runtime.database.apply_batch(
        [item("ann"), item(secret), item("bo")], apply
    )
    assert applied == ["ann", "bo"]
    [letter] = rejected
    assert (
        letter.dead_letter.data.reason
        == "could not be applied: ProgramLimitExceeded (SQLSTATE 54000)"
    )
    assert "Anna" not in letter.dead_letter.data.reason
