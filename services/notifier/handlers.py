"""The notifier's Kafka handler: ranked lists in, budgeted suggestions out.

It only translates: apply the batch in one unit of work (``choosing`` decides what to
tell whom), confirm erasures, then publish what is chosen and not yet published, and
mark it published once the broker confirmed it. A crash in between publishes it with the
next batch for that owner (with the same id): nothing chosen is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.notifier import choosing, store
from services.notifier.models import NotifySuggestion
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.clock import as_utc
from shared.erasure import confirmations
from shared.messages import SuggestionMade, wrap
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

SOURCE = "springboard.notifier"


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.end_to_end = Histogram(
            "springboard_notifier_end_to_end_seconds",
            "From an input's time to the publication of the suggestion it led to.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=registry,
        )
        self.published = Counter(
            "springboard_notifier_suggestions_total",
            "Suggestions published, by kind.",
            ["kind"],
            registry=registry,
        )

    def count(self, rows: Sequence[NotifySuggestion], published_at: datetime) -> None:
        for row in rows:
            self.published.labels(row.kind).inc()
            if row.input_at is not None:
                self.end_to_end.observe((published_at - as_utc(row.input_at)).total_seconds())


@dataclass(frozen=True)
class Notifier:
    """What the handler works with."""

    runtime: ServiceRuntime[UnitOfWork]
    settings: NotifierSettings
    metrics: NotifierMetrics


async def on_recommendations(notifier: Notifier, batch: list[Decoded]) -> list[Rejected]:
    runtime = notifier.runtime
    apply = partial(choosing.apply_batch, settings=notifier.settings)
    owners, failed = await runtime.database.apply_batch(batch, apply)
    done = applied(batch, failed)
    await runtime.publisher.publish_all(confirmations("notifier", [i.envelope for i in done]))
    await publish_pending(notifier, owners)
    return failed


async def publish_pending(notifier: Notifier, owner_ids: Sequence[str]) -> None:
    """Publish the owners' chosen suggestions not yet published (the outbox's relay)."""
    runtime = notifier.runtime
    owners = sorted(set(owner_ids))
    pending = await runtime.database.in_transaction(partial(store.unpublished, owner_ids=owners))
    if not pending:
        return
    envelopes = [
        wrap(
            SuggestionMade.model_validate(row.payload),
            owner_id=row.owner_id,
            source=SOURCE,
            time=as_utc(row.chosen_at),
            message_id=row.suggestion_id,
            correlation_id=row.correlation_id,
        )
        for row in pending
    ]
    await runtime.publisher.publish_all((topics.SUGGESTIONS, e) for e in envelopes)
    published_at = datetime.now(UTC)
    ids = [row.suggestion_id for row in pending]
    await runtime.database.in_transaction(partial(store.mark_published, ids=ids, at=published_at))
    notifier.metrics.count(pending, published_at)
