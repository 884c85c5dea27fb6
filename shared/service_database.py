"""A service's database: its engine, a unit of work per transaction, and a batch applied
in one transaction with the message it fails on isolated."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from shared import database
from shared.broker import Decoded, Rejected, reject
from shared.settings import SpringboardSettings
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard")

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W", bound=UnitOfWork)


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
            engine = database.make_engine(
                self.settings.database_url(self.name),
                schema_name=self.settings.database.schema_name,
                echo=self.settings.database.echo,
            )
            try:
                database.create_tables(engine, self.tables)
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
        return self._engine is not None and database.ping(self._engine)

    async def in_transaction(self, work: Callable[[W], T]) -> T:
        return await database.in_transaction(self.engine, work, self.unit)

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
            if database.is_outage(error):
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
                if database.is_outage(error):
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
