"""Ingest's Kafka handler: raw input in, canonical network updates out.

It only translates: apply the batch's valid inputs in one unit of work (the rules are in
``canonical`` and ``publishing``), publish the updates keyed by owner, tell the other
services about erasures and confirm them, count, and only then let FastStream commit the
offsets (by returning; what it returns goes to the dead-letter topics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from services.ingest import publishing
from services.ingest.publishing import Applied
from services.ingest.store import IngestWork
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.messages import Envelope
from shared.messages.network import NetworkChanges
from shared.metrics import count_each
from shared.service import ServiceRuntime


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.inputs = Counter(
            "springboard_ingest_inputs_total",
            "Input messages, by topic, source kind (import, crm, app…) and outcome.",
            ["topic", "source", "outcome"],
            registry=registry,
        )
        self.merges = Counter(
            "springboard_ingest_identity_merges_total",
            "Records found to be one person, by how (shared keys, or name and company).",
            ["how"],
            registry=registry,
        )
        self.updates = Counter(
            "springboard_ingest_network_updates_total",
            "Canonical changes published, by change.",
            ["change"],
            registry=registry,
        )

    def count(
        self,
        batch: Sequence[Decoded],
        done: Sequence[Decoded],
        outcomes: Sequence[Applied],
        updates: Sequence[Envelope[NetworkChanges]],
    ) -> None:
        done_ids = {id(item) for item in done}  # identity: comparing records is slow
        count_each(
            self.inputs,
            (
                (
                    item.topic,
                    publishing.source_kind(item.envelope.source),
                    "applied" if id(item) in done_ids else "dead_lettered",
                )
                for item in batch
            ),
        )
        count_each(self.merges, (how for outcome in outcomes for how in outcome.merges))
        count_each(self.updates, (c.change for update in updates for c in update.data.changes))


@dataclass(frozen=True)
class Ingest:
    """What the handler works with."""

    runtime: ServiceRuntime[IngestWork]
    metrics: IngestMetrics


async def on_inputs(ingest: Ingest, batch: list[Decoded]) -> list[Rejected]:
    runtime = ingest.runtime
    outcomes, failed = await runtime.database.apply_batch(batch, publishing.apply_inputs)
    updates = [update for outcome in outcomes for update in outcome.updates]
    await runtime.publisher.publish_all((topics.NETWORK_UPDATES, u) for u in updates)
    done = applied(batch, failed)
    notices = publishing.erasure_notices(updates)
    await runtime.publisher.publish_all((topics.ERASURES, n) for n in notices)
    await runtime.publisher.publish_all(publishing.erasure_confirmations(done, notices))
    ingest.metrics.count(batch, done, outcomes, updates)
    return failed
