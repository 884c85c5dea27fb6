"""One batch's unit of work: its session, the rows queued for bulk upserts, and what it
keeps for as long as its transaction lives.

A service's handler applies a whole batch of messages in one unit of work. Writes of many
messages to one table are queued (``upsert_later``) and written in one statement when the
unit commits, or earlier where the batch reads them back (``write_pending``). A service
with more to keep per transaction (ingest's look-up caches) subclasses it with typed fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from shared.upserts import keep_one_per_key, upsert

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
