"""A service's database: one engine per service, a transaction per unit of work, and a
batch applied in one transaction with the message it fails on isolated (``ServiceDatabase``).

A SQLite file per service by default; PostgreSQL (or anything SQLAlchemy speaks) by URL.
Sessions are synchronous and run in a worker thread, so a slow query never stalls the
event loop that keeps the Kafka consumer's heartbeats going.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import SQLModel, create_engine

from shared.broker import Decoded, Rejected, reject
from shared.settings import SpringboardSettings
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard")

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W", bound=UnitOfWork)


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


@contextmanager
def store_of(
    settings: SpringboardSettings, service: str, tables: Sequence[type[SQLModel]]
) -> Iterator[Engine]:
    """A service's store as a command outside that service reads it: its tables made if
    missing, the engine disposed afterwards."""
    engine = make_engine(settings.database_url(service), schema_name=settings.database.schema_name)
    try:
        create_tables(engine, tables)
        yield engine
    finally:
        engine.dispose()


def create_tables(engine: Engine, tables: Sequence[type[SQLModel]]) -> None:
    """Create this service's tables only (each service owns its own)."""
    SQLModel.metadata.create_all(engine, tables=[t.__table__ for t in tables])  # type: ignore[attr-defined]


@overload
def transaction(engine: Engine) -> AbstractContextManager[UnitOfWork]: ...
@overload
def transaction(engine: Engine, unit: type[W]) -> AbstractContextManager[W]: ...
def transaction(
    engine: Engine, unit: type[UnitOfWork] = UnitOfWork
) -> AbstractContextManager[UnitOfWork]:
    """One unit of work (a ``unit``), committed on success and rolled back on error."""
    return _transaction(engine, unit)


@contextmanager
def _transaction(engine: Engine, unit: type[W]) -> Iterator[W]:
    with unit(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@overload
async def in_transaction(engine: Engine, work: Callable[[UnitOfWork], T]) -> T: ...
@overload
async def in_transaction(engine: Engine, work: Callable[[W], T], unit: type[W]) -> T: ...
async def in_transaction(
    engine: Engine, work: Callable[[Any], T], unit: type[UnitOfWork] = UnitOfWork
) -> T:
    """Run ``work(unit_of_work)`` in one committed transaction, off the event loop."""

    def run() -> T:
        with _transaction(engine, unit) as session:
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


class ServiceDatabase(Generic[W]):
    """The tables of one service, opened at start-up, and its unit of work (``unit``)."""

    def __init__(
        self,
        name: str,
        settings: SpringboardSettings,
        tables: Sequence[type[SQLModel]],
        unit: type[W],
    ) -> None:
        self.name = name
        self.settings = settings
        self.tables = tables
        self.unit = unit
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError(f"{self.name}: the database is opened when the app starts")
        return self._engine

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    def open(self) -> Engine:
        if self._engine is None:
            engine = make_engine(
                self.settings.database_url(self.name),
                schema_name=self.settings.database.schema_name,
                echo=self.settings.database.echo,
            )
            try:
                create_tables(engine, self.tables)
            except Exception:
                engine.dispose()
                raise
            self._engine = engine  # only once its tables exist
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def reachable(self) -> bool:
        return self._engine is not None and ping(self._engine)

    async def in_transaction(self, work: Callable[[W], T]) -> T:
        return await in_transaction(self.engine, work, self.unit)

    async def apply_batch(
        self, batch: list[Decoded], apply: Callable[[W, list[Decoded]], list[R]]
    ) -> tuple[list[R], list[Rejected]]:
        """Apply a batch in one transaction; if it fails on its data, isolate the culprit.

        A database that is down (``database.is_outage``) fails the whole batch, to be
        retried. Any other error, a record the database refuses included (an id too long
        for its index), replays the batch one message per transaction, so the message that
        cannot be applied is dead-lettered and the rest go through. Neither the log nor the
        dead letter's reason carries the records' data: the error's type says what failed.
        """
        try:
            return await self.in_transaction(lambda work: apply(work, batch)), []
        except Exception as error:
            if is_outage(error):
                raise
            logger.error(
                "%s: batch of %d failed (%s); applying one by one",
                self.name,
                len(batch),
                error_kind(error),
            )
        results: list[R] = []
        rejected: list[Rejected] = []
        for item in batch:
            try:
                results += await self.in_transaction(partial(_apply_one, apply, item))
            except Exception as error:
                if is_outage(error):
                    raise
                rejected.append(
                    reject(
                        item.record,
                        topic=item.topic,
                        service=self.name,
                        reason=f"could not be applied: {error_kind(error)}",
                        category="unapplied",
                    )
                )
        return results, rejected


def error_kind(error: BaseException) -> str:
    """What failed, without the data it failed on: the error's type, and the database's
    own error class and SQLSTATE when it is one (never the statement or its parameters)."""
    original = getattr(error, "orig", None)
    if original is not None:
        state = getattr(original, "sqlstate", None)
        return f"{type(original).__name__}" + (f" (SQLSTATE {state})" if state else "")
    return type(error).__name__


def _apply_one(apply: Callable[[W, list[Decoded]], list[R]], item: Decoded, work: W) -> list[R]:
    return apply(work, [item])
