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
from sqlmodel import Session

from services.ingest import canonical
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.messages import Envelope, inputs, wrap
from shared.messages.network import (
    ErasureConfirmed,
    NetworkChange,
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


def build_router(runtime: ServiceRuntime) -> KafkaRouter:
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
        schema=Envelope[NetworkChange],  # type: ignore[valid-type]
        description="Canonical changes to an owner's network.",
    )

    def apply_batch(session: Session, batch: list[Decoded]) -> list[Envelope[Any]]:
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
        out = []
        for position, change in once_per_person(changes):
            item, index = made[position]
            envelope = item.envelope
            out.append(
                wrap(
                    change,
                    owner_id=envelope.owner_id,
                    source=SOURCE,
                    # An update's time is when its input reached Kafka (facts carry their own).
                    time=datetime.fromtimestamp(item.record.timestamp / 1000, UTC),
                    correlation_id=envelope.correlation_id or envelope.id,
                    # Derived ids: a replayed input yields the very same updates.
                    message_id=f"{envelope.id}/{index}",
                )
            )
        return out

    async def confirm_erasures(requests: list[Decoded], updates: list[Envelope[Any]]) -> None:
        """Erase requests done here: tell the services that keep copies, and confirm —
        also when no one had that address (an empty list of people)."""
        erased = [
            u
            for u in updates
            if isinstance(u.data, PersonErased | OwnerErased)
            and (isinstance(u.data, OwnerErased) or u.data.requested)
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
        updates, failed = await runtime.apply_batch(batch, apply_batch)
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
                    item.envelope.source.split(":", 1)[0][:32],
                    "applied" if id(item) in done_ids else "dead_lettered",
                )
                for item in batch
            ),
        )
        count_each(merges_total, merges_seen)
        merges_seen.clear()
        count_each(updates_total, (update.data.change for update in updates))
        return failed

    runtime.consume(router, *topics.INPUTS, title="ingest-inputs", process=on_inputs)
    return router
