"""Ingest's Kafka handlers: raw input in, canonical network updates out.

The handler only translates: validate the batch (bad records become dead letters),
apply the good ones in one transaction, publish the changes keyed by owner, and only
then let FastStream commit the offsets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaRouter
from prometheus_client import Counter

from services.ingest import canonical
from services.ingest.unit_of_work import IngestWork
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.messages import Envelope, inputs, wrap
from shared.messages.envelope import derived_id
from shared.messages.network import (
    CHANGES_PER_MESSAGE,
    ErasureConfirmed,
    NetworkChanges,
    OwnerErased,
    PersonChanged,
    PersonErased,
)
from shared.metrics import count_each
from shared.service import ServiceRuntime

logger = logging.getLogger("springboard.ingest")

SOURCE = "springboard.ingest"


_ERASING = (PersonErased, OwnerErased)


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


SOURCE_KINDS = frozenset({"import", "webhook", "crm", "cli", "app", "springboard"})
"""The values of the ``source`` label: a producer names its source freely (an address, a
CRM's record), so anything else counts as ``other`` and the series stay few."""


def source_kind(source: str) -> str:
    kind = source.split(":", 1)[0].split(".", 1)[0].strip().lower()
    return kind if kind in SOURCE_KINDS else "other"


def build_router(runtime: ServiceRuntime[IngestWork]) -> KafkaRouter:
    router = runtime.router()
    inputs_total = Counter(
        "springboard_ingest_inputs_total",
        "Input messages, by topic, source kind (import, crm, app…) and outcome.",
        ["topic", "source", "outcome"],
        registry=runtime.registry,
    )
    merges_total = Counter(
        "springboard_ingest_identity_merges_total",
        "Records found to be one person, by how (shared keys, or name and company).",
        ["how"],
        registry=runtime.registry,
    )
    merges_seen: list[str] = []
    updates_total = Counter(
        "springboard_ingest_network_updates_total",
        "Canonical changes published, by change.",
        ["change"],
        registry=runtime.registry,
    )
    router.publisher(
        topics.NETWORK_UPDATES,
        title="network-updates",
        schema=Envelope[NetworkChanges],
        description="Canonical changes to an owner's network.",
    )

    def apply_batch(session: IngestWork, batch: list[Decoded]) -> list[Envelope[NetworkChanges]]:
        canonical.look_up_people(
            session, [(i.envelope.owner_id, i.envelope.source, i.envelope.data) for i in batch]
        )
        made: list[tuple[Decoded, int]] = []  # the input of each change, and its index there
        changes: list[tuple[str, Any]] = []
        for item in batch:
            envelope = item.envelope
            applied = canonical.apply(
                session, owner_id=envelope.owner_id, source=envelope.source, data=envelope.data
            )
            made += [(item, index) for index in range(len(applied))]
            changes += [(envelope.owner_id, change) for change in applied]
        merges_seen.extend(session.info.pop("merges", []))
        return packed([(*made[position], change) for position, change in once_per_person(changes)])

    async def confirm_erasures(
        requests: list[Decoded], updates: list[Envelope[NetworkChanges]]
    ) -> None:
        """Erase requests done here: tell the services that keep copies (one erasure a
        message, as it went out among the network updates), and confirm — also when no one
        had that address (an empty list of people)."""
        erased = [
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
        await runtime.publisher.publish_all((topics.ERASURES, u) for u in erased)
        confirmations = []
        for request in requests:
            envelope = request.envelope
            key = envelope.correlation_id or envelope.id
            people = [
                u.data.person_id
                for u in erased
                if u.correlation_id == key and isinstance(u.data, PersonErased)
            ]
            scope = "owner" if isinstance(envelope.data, inputs.EraseOwner) else "person"
            confirmations.append(
                (
                    topics.ERASURE_CONFIRMATIONS,
                    wrap(
                        ErasureConfirmed(
                            service="ingest", request_id=key, scope=scope, person_ids=people
                        ),
                        owner_id=envelope.owner_id,
                        source=SOURCE,
                        correlation_id=key,
                        message_id=f"ingest/{key}",
                    ),
                )
            )
        await runtime.publisher.publish_all(confirmations)

    async def on_inputs(batch: list[Decoded]) -> list[Rejected]:
        updates, failed = await runtime.database.apply_batch(batch, apply_batch)
        await runtime.publisher.publish_all((topics.NETWORK_UPDATES, u) for u in updates)
        done = applied(batch, failed)
        await confirm_erasures(
            [
                i
                for i in done
                if isinstance(i.envelope.data, inputs.ErasePerson | inputs.EraseOwner)
            ],
            updates,
        )
        done_ids = {id(item) for item in done}  # identity: comparing records is slow
        count_each(
            inputs_total,
            (
                (
                    item.topic,
                    source_kind(item.envelope.source),
                    "applied" if id(item) in done_ids else "dead_lettered",
                )
                for item in batch
            ),
        )
        count_each(merges_total, merges_seen)
        merges_seen.clear()
        count_each(updates_total, (c.change for update in updates for c in update.data.changes))
        return failed

    runtime.consumer.subscribe(router, *topics.INPUTS, title="ingest-inputs", process=on_inputs)
    return router
