"""Database helpers: one engine per service, a transaction per unit of work, upserts.

A SQLite file per service by default; PostgreSQL (or anything SQLAlchemy speaks) by URL.
Sessions are synchronous and run in a worker thread, so a slow query never stalls the
event loop that keeps the Kafka consumer's heartbeats going.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, Text, cast, event, or_, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from shared.copy_upsert import (
    copy_upsert,
    keep_one_per_key,
    staging_tables_committed,
    staging_tables_rolled_back,
)

T = TypeVar("T")


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# JSON columns (the people of every meeting, above all) are read and written with orjson:
# a sixth of the CPU of ranking an owner went to the standard library's json.loads, and
# json.dumps was a tenth of projecting a batch of updates.
ENGINE_OPTIONS: dict[str, Any] = {
    "json_deserializer": orjson.loads,
    "json_serializer": _json_text,
    # A failed statement's error keeps its SQL but not the values: those are people's
    # names and addresses, and errors end up in logs.
    "hide_parameters": True,
}

# From this many rows on, an upsert on PostgreSQL goes through COPY (``copy_upsert``).
COPY_FROM_ROWS = 20


def make_engine(url: str, *, schema_name: str | None = None, echo: bool = False) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            **ENGINE_OPTIONS,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if schema_name:
        connect_args["options"] = f"-csearch_path={schema_name}"
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args=connect_args,
        **ENGINE_OPTIONS,
    )
    if schema_name:
        try:
            with engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"'))
        except IntegrityError:
            pass  # another service created it at the same moment
    return engine


def create_tables(engine: Engine, tables: Sequence[type[SQLModel]]) -> None:
    """Create this service's tables only (each service owns its own)."""
    SQLModel.metadata.create_all(engine, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def in_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in one committed transaction, off the event loop."""

    def run() -> T:
        with transaction(engine) as session:
            return work(session)

    return await asyncio.to_thread(run)


# SQLSTATE classes of errors about the data, not the database: 22 data exception, 23
# integrity constraint violation, 54 program limit exceeded (an index row too large). The
# driver reports the last as an OperationalError, like a database that is down.
DATA_ERROR_CLASSES = ("22", "23", "54")


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database is unavailable (retry the work later), rather
    than that it refuses this data (dead-letter the record and go on)."""
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return not sqlstate.startswith(DATA_ERROR_CLASSES)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def upsert(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``, or update the non-key columns where the key already exists."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    # A write needs no pending ORM objects flushed first (no foreign keys between tables):
    # skipping autoflush saves a flush per row written.
    with session.no_autoflush:
        if dialect == "postgresql" and len(rows) >= COPY_FROM_ROWS:
            copy_upsert(session, table, rows, keys=keys, update=columns)
        else:
            statement = _upsert_statement(table, dialect, tuple(keys), tuple(columns))
            session.execute(statement, list(rows))


def upsert_later(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Queue rows for one bulk upsert per table when the transaction commits (or when
    ``write_pending`` is called before reading them back): one round trip per batch of
    messages instead of one per message. A later row with the same key replaces an earlier,
    unless ``update`` is empty: then, as in the database, the first one written stays."""
    pending = session.info.setdefault("pending_upserts", {})
    columns = tuple(update) if update is not None else None
    queued = pending.setdefault((table, tuple(keys), columns), {})
    keep_one_per_key(queued, rows, keys=keys, first_wins=columns == ())


def write_pending(session: Session) -> None:
    """Write the rows ``upsert_later`` queued in this session."""
    pending = session.info.pop("pending_upserts", {})
    for (table, keys, update), rows in pending.items():
        upsert(session, table, list(rows.values()), keys=keys, update=update)


@event.listens_for(Session, "before_commit")
def _write_pending_before_commit(session: Session) -> None:
    write_pending(session)


@event.listens_for(Session, "after_commit")
def _keep_staging_tables_after_commit(session: Session) -> None:
    staging_tables_committed(session)


@event.listens_for(Session, "after_rollback")
def _forget_pending_after_rollback(session: Session) -> None:
    session.info.pop("pending_upserts", None)
    staging_tables_rolled_back(session)


def _changed(table: Any, excluded: Any, columns: Sequence[str]) -> Any:
    """A row's update only where some column would change: a calendar or CRM re-sent
    unchanged (most of every re-import) then writes no new row version (no index updates,
    no WAL, nothing to vacuum). JSON has no equality in PostgreSQL: compared as text,
    which can only find a difference where there is none, never miss one."""

    def comparable(column: Any) -> Any:
        return cast(column, Text) if isinstance(column.type, JSON) else column

    return or_(*(comparable(table.c[c]).is_distinct_from(comparable(excluded[c])) for c in columns))


@functools.cache
def _upsert_statement(
    table: type[SQLModel], dialect: str, keys: tuple[str, ...], columns: tuple[str, ...]
) -> Any:
    """One statement per shape, built once: building ``excluded`` costs more than the insert."""
    sa_table = table.__table__  # type: ignore[attr-defined]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(sa_table)
    if columns:
        return statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: statement.excluded[c] for c in columns},
            where=_changed(sa_table, statement.excluded, columns),
        )
    return statement.on_conflict_do_nothing(index_elements=list(keys))
