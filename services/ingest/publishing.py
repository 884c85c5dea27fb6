"""What a batch of inputs becomes on the way out: canonical changes, once per person, packed
into messages of one owner each; and the notices and confirmations of erasures.

Ids are derived from the inputs', so a batch read again yields the very same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.ingest import canonical
from services.ingest.store import IngestWork
from shared.broker import Decoded
from shared.erasure import confirmation
from shared.messages import Envelope, inputs, wrap
from shared.messages.envelope import derived_id
from shared.messages.network import (
    CHANGES_PER_MESSAGE,
    NetworkChanges,
    OwnerErased,
    PersonChanged,
    PersonErased,
)

SOURCE = "springboard.ingest"

_ERASING = (PersonErased, OwnerErased)


@dataclass
class Applied:
    """A transaction's outcome: the network updates to publish, and how each identity merge
    it made was found (for the metrics)."""

    updates: list[Envelope[NetworkChanges]] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)


def apply_inputs(work: IngestWork, batch: list[Decoded]) -> list[Applied]:
    """Resolve and store a batch's inputs in ``work``; the updates they make, packed."""
    canonical.look_up_people(
        work, [(i.envelope.owner_id, i.envelope.source, i.envelope.data) for i in batch]
    )
    made: list[tuple[Decoded, int]] = []  # the input of each change, and its index there
    changes: list[tuple[str, Any]] = []
    for item in batch:
        envelope = item.envelope
        applied = canonical.apply(
            work, owner_id=envelope.owner_id, source=envelope.source, data=envelope.data
        )
        made += [(item, index) for index in range(len(applied))]
        changes += [(envelope.owner_id, change) for change in applied]
    updates = packed([(*made[position], change) for position, change in once_per_person(changes)])
    return [Applied(updates, list(work.merges))]


def once_per_person(changes: Sequence[tuple[str, Any]]) -> list[tuple[int, Any]]:
    """Of a batch's (owner, change) pairs, the positions to publish and what: a person
    named by many inputs (the owner, in every meeting) once, where they first appear, in
    their latest state. The projection keeps only the last write of a person anyway, and
    nothing before them names them. An owner with an erasure or merge in the batch keeps
    every change, as order matters there."""
    erasing = {owner for owner, c in changes if isinstance(c, _ERASING)}
    keys = [
        (owner, c.person_id) if isinstance(c, PersonChanged) and owner not in erasing else None
        for owner, c in changes
    ]
    latest = {key: c for key, (_, c) in zip(keys, changes, strict=True) if key is not None}
    out: list[tuple[int, Any]] = []
    published: set[tuple[str, str]] = set()
    for index, key in enumerate(keys):
        if key is None:
            out.append((index, changes[index][1]))
        elif key not in published:
            published.add(key)
            out.append((index, latest[key]))
    return out


Made = tuple[Decoded, int, Any]
"""The input that made a change, the change's index among that input's, and the change."""


def packed(made: Sequence[Made]) -> list[Envelope[NetworkChanges]]:
    """A batch's changes as messages of one owner each, in order: up to
    ``CHANGES_PER_MESSAGE`` changes a message, and an erasure alone in one of its own (its
    correlation id is the erase request's, which the services confirm)."""
    out: list[Envelope[NetworkChanges]] = []
    open_packs: dict[str, list[Made]] = {}

    def close(owner_id: str) -> None:
        pack = open_packs.pop(owner_id, None)
        if pack:
            out.append(_message(pack))

    for entry in made:
        owner_id = entry[0].envelope.owner_id
        if isinstance(entry[2], _ERASING):
            close(owner_id)  # what came before it goes first
            out.append(_message([entry]))
            continue
        pack = open_packs.setdefault(owner_id, [])
        pack.append(entry)
        if len(pack) == CHANGES_PER_MESSAGE:
            close(owner_id)
    for owner_id in list(open_packs):
        close(owner_id)
    return out


def _message(pack: Sequence[Made]) -> Envelope[NetworkChanges]:
    """One owner's changes in an envelope that names the earliest input behind them: its
    time (when it reached Kafka; facts carry their own) and its correlation id."""
    first, index, _ = pack[0]
    earliest = min((item for item, _, _ in pack), key=lambda item: item.record.timestamp)
    envelope = earliest.envelope
    return wrap(
        NetworkChanges(changes=[change for _, _, change in pack]),
        owner_id=envelope.owner_id,
        source=SOURCE,
        time=datetime.fromtimestamp(earliest.record.timestamp / 1000, UTC),
        correlation_id=envelope.correlation_id or envelope.id,
        # Derived ids: a replayed input yields the very same updates.
        message_id=derived_id(first.envelope.id, str(index)),
    )


def erasure_notices(updates: Sequence[Envelope[NetworkChanges]]) -> list[Envelope[Any]]:
    """The erasures among the updates, one a message for the services that keep copies (as
    each went out among the network updates, with its id and correlation id)."""
    return [
        wrap(
            change,
            owner_id=u.owner_id,
            source=SOURCE,
            time=u.time,
            correlation_id=u.correlation_id,
            message_id=u.id,
        )
        for u in updates
        for change in u.data.changes
        if isinstance(change, OwnerErased)
        or (isinstance(change, PersonErased) and change.requested)
    ]


def erasure_confirmations(
    requests: Sequence[Decoded], notices: Sequence[Envelope[Any]]
) -> list[tuple[str, Envelope[Any]]]:
    """Ingest's confirmation of each erase request it applied, also when no one had that
    address (no people erased)."""
    out = []
    for request in requests:
        envelope = request.envelope
        if not isinstance(envelope.data, inputs.ErasePerson | inputs.EraseOwner):
            continue
        key = envelope.correlation_id or envelope.id
        people = [
            n.data.person_id
            for n in notices
            if n.correlation_id == key and isinstance(n.data, PersonErased)
        ]
        whole = isinstance(envelope.data, inputs.EraseOwner)
        out.append(
            confirmation("ingest", envelope.owner_id, key, "owner" if whole else "person", people)
        )
    return out


SOURCE_KINDS = frozenset({"import", "webhook", "crm", "cli", "app", "springboard"})
"""The values of the ``source`` label: a producer names its source freely (an address, a
CRM's record), so anything else counts as ``other`` and the series stay few."""


def source_kind(source: str) -> str:
    kind = source.split(":", 1)[0].split(".", 1)[0].strip().lower()
    return kind if kind in SOURCE_KINDS else "other"
