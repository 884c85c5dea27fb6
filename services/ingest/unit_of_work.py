"""Ingest's unit of work: one batch's transaction, and what it has looked up so far.

A calendar names the same people in meeting after meeting, and every input of a batch
asks for its owner: each is read once per batch and kept here, in typed fields that live
and die with the transaction. A merge, an undo or an erasure moves keys and people, and
``forget_looked_up`` makes the rest of the batch read them again.
"""

from __future__ import annotations

from typing import Any

from services.ingest.identity import Key
from services.ingest.models import IngestOwner, IngestPerson
from shared.messages.network import PersonChanged
from shared.unit_of_work import UnitOfWork


class IngestWork(UnitOfWork):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners: dict[str, IngestOwner | None] = {}
        """Owners read in this transaction (None: no such owner yet)."""
        self.own_emails: dict[str, frozenset[str]] = {}
        """Each owner's own addresses, normalised (asked for every person resolved)."""
        self.resolved_keys: dict[tuple[str, Key], str | None] = {}
        """(owner, key) -> the person the key points at, or None for a key no one has."""
        self.described: dict[str, PersonChanged] = {}
        """The ``PersonChanged`` built for each person, dropped when they change."""
        self.resolved_addresses: dict[tuple[str, str, Any], tuple[IngestPerson, PersonChanged]] = {}
        """(owner, address, facts) -> the person they resolved to and their ``PersonChanged``
        then: the same attendee of meeting after meeting is resolved once while unchanged."""
        self.people_by_company: dict[tuple[str, str], list[IngestPerson]] = {}
        """People by (owner, company), kept in step with the people the batch creates."""
        self.pinned: dict[str, IngestPerson] = {}
        """Strong references for the transaction: SQLAlchemy's identity map is weak, so
        without them the same person is read again for every input naming them."""
        self.merges: list[str] = []
        """How each merge of this batch was found (``keys`` or ``name``), for the metrics."""

    def forget_looked_up(self) -> None:
        """Keys or people moved (a merge, an undo, an erasure): look them up again."""
        for cache in (
            self.resolved_keys,
            self.people_by_company,
            self.pinned,
            self.own_emails,
            self.described,
            self.resolved_addresses,
        ):
            cache.clear()
