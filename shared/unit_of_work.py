"""One batch's unit of work: its session, the rows queued for bulk upserts, and what it
keeps for as long as its transaction lives; and the upserts themselves.

A service's handler applies a whole batch of messages in one unit of work. Writes of many
messages to one table are queued (``upsert_later``) and written in one statement when the
unit commits, or earlier where the batch reads them back (``write_pending``). A service
with more to keep per transaction (ingest's look-up caches) subclasses it with typed fields.

An upsert inserts rows, or updates the columns that changed where the key exists: one
statement per table shape, built once; on PostgreSQL from ``COPY_FROM_ROWS`` rows on
through COPY and a staging table (``copy_upsert``): rows are streamed into a temporary
staging table, then merged into the real one with a single
``INSERT ... SELECT ... ON CONFLICT``. For a batch of hundreds of rows this costs a fifth
of the client CPU of an executemany (which binds and executes the statement once per row)
and half the time; for a handful of rows the extra statements are not worth it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, Text, cast, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel

QueueKey = tuple[type[SQLModel], tuple[str, ...], tuple[str, ...] | None]


class UnitOfWork(Session):
    """A SQLModel session that owns its queued upserts: committed with them, rolled back
    without them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending: dict[QueueKey, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.staging_created: dict[bytes, set[bytes]] = {}
        """COPY staging tables created in this transaction, with the connection's set of
        tables made, where each goes once the transaction commits (a rollback drops it)."""

    def upsert_later(
        self,
        table: type[SQLModel],
        rows: Sequence[dict[str, Any]],
        *,
        keys: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> None:
        """Queue rows for one bulk upsert per table: one round trip per batch of messages
        instead of one per message. A later row with the same key replaces an earlier,
        unless ``update`` is empty: then, as in the database, the first one written stays."""
        columns = tuple(update) if update is not None else None
        queued = self.pending.setdefault((table, tuple(keys), columns), {})
        keep_one_per_key(queued, rows, keys=keys, first_wins=columns == ())

    def write_pending(self) -> None:
        """Write what ``upsert_later`` queued (before reading those tables back)."""
        pending, self.pending = self.pending, {}
        for (table, keys, update), rows in pending.items():
            upsert(self, table, list(rows.values()), keys=keys, update=update)

    def commit(self) -> None:
        self.write_pending()
        super().commit()
        for create, made in self.staging_created.items():
            made.add(create)
        self.staging_created.clear()

    def rollback(self) -> None:
        super().rollback()
        self.pending.clear()
        self.staging_created.clear()


# -- Upserts -------------------------------------------------------------------

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


# -- COPY on PostgreSQL --------------------------------------------------------

Processor = Callable[[Any], Any] | None


def copy_upsert(
    session: UnitOfWork,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows``, or update the ``update`` columns where the key already exists (with
    ``update`` empty, leave the existing row alone). Rows with the same key are written once:
    the last one, or with ``update`` empty the first, as executing them in order would."""
    names = tuple(rows[0])
    processors = [_processors(table, session.get_bind().dialect).get(n) for n in names]
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    keep_one_per_key(unique, rows, keys=keys, first_wins=not update)
    fairy = session.connection().connection
    connection = fairy.driver_connection
    assert connection is not None, "a live PostgreSQL connection"
    create, copy_in, merge = _statements(connection, table, names, tuple(keys), tuple(update))
    with connection.cursor() as cursor:
        # The staging table lives as long as the connection, emptied by every transaction's
        # end; created once per connection, and counted as made only once its transaction
        # commits (a rollback takes the table with it).
        made: set[bytes] = fairy.info.setdefault("staging_tables", set())
        creating = session.staging_created
        if create not in made and create not in creating:
            cursor.execute(create)
            creating[create] = made
        with cursor.copy(copy_in) as copy:
            for row in unique.values():
                copy.write_row(
                    [
                        row[name] if process is None else process(row[name])
                        for name, process in zip(names, processors, strict=True)
                    ]
                )
        # Merged and emptied in one round trip (the same table may be upserted again
        # before the transaction ends).
        cursor.execute(merge)


_STATEMENTS: dict[tuple[Any, ...], tuple[bytes, ...]] = {}


def _statements(connection: Any, *shape: Any) -> tuple[bytes, ...]:
    """``_composed(*shape)`` as the connection sends it, once per client encoding (which
    quoting depends on): composing them cost more than running them for a small batch."""
    key = (*shape, connection.info.encoding)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = tuple(s.as_bytes(connection) for s in _composed(*shape))
    return _STATEMENTS[key]


@functools.cache
def _composed(
    table: type[SQLModel],
    names: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
) -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """The staging table's creation, the COPY into it and the merge out of it."""
    sa_table = table.__table__  # type: ignore[attr-defined]
    staging = sql.Identifier(f"_staging_{sa_table.name}")
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    create = sql.SQL(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS"
    ).format(staging, sql.Identifier(sa_table.name))
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(staging, columns)
    action: sql.Composable
    if update:
        action = sql.SQL("DO UPDATE SET {} WHERE {}").format(
            sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update
            ),
            _copy_changed(sa_table, update),
        )
    else:
        action = sql.SQL("DO NOTHING")
    merge = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}; DELETE FROM {}"
    ).format(
        sql.Identifier(sa_table.name),
        columns,
        columns,
        staging,
        sql.SQL(", ").join(map(sql.Identifier, keys)),
        action,
        staging,
    )
    return create, copy_in, merge


def _copy_changed(sa_table: Any, columns: Sequence[str]) -> sql.Composable:
    """Only rows where some column would change are rewritten (as ``_changed``)."""

    def comparable(name: str, side: sql.Composable) -> sql.Composable:
        column = sql.SQL("{}.{}").format(side, sql.Identifier(name))
        if isinstance(sa_table.c[name].type, JSON):
            return sql.SQL("{}::text").format(column)
        return column

    target, excluded = sql.Identifier(sa_table.name), sql.SQL("EXCLUDED")
    return sql.SQL(" OR ").join(
        sql.SQL("{} IS DISTINCT FROM {}").format(
            comparable(name, target), comparable(name, excluded)
        )
        for name in columns
    )


def keep_one_per_key(
    kept: dict[tuple[Any, ...], dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    first_wins: bool,
) -> None:
    """Add ``rows`` to ``kept`` by key: the last row of a key replaces an earlier one, or,
    with ``first_wins`` (an upsert that leaves existing rows alone), the first one stays."""
    get = itemgetter(*keys)  # a tuple for several keys, the value itself for one
    single = len(keys) == 1
    for row in rows:
        key = (get(row),) if single else get(row)
        if not first_wins or key not in kept:
            kept[key] = row


@functools.cache
def _processors(table: type[SQLModel], dialect: Dialect) -> dict[str, Processor]:
    """What SQLAlchemy does to each column's value before handing it to the driver (JSON
    columns are serialised, for one)."""
    return {
        column.name: column.type.dialect_impl(dialect).bind_processor(dialect)
        for column in table.__table__.columns  # type: ignore[attr-defined]
    }
