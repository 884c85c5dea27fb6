"""Upserts: insert rows, or update the columns that changed where the key exists.

One statement per table shape, built once; on PostgreSQL from ``COPY_FROM_ROWS`` rows on
through COPY and a staging table (``copy_upsert``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Text, cast, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel

from shared.copy_upsert import copy_upsert

if TYPE_CHECKING:
    from shared.unit_of_work import UnitOfWork

# From this many rows on, an upsert on PostgreSQL goes through COPY (``copy_upsert``).
COPY_FROM_ROWS = 20


def upsert(
    session: UnitOfWork,
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
