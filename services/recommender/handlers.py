"""The recommender's Kafka handlers: project network updates and feedback, mark owners to re-score.

Scoring itself runs in the scheduler, debounced per owner, so a burst of updates yields
one fresh ranked list instead of hundreds of stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from faststream.kafka import KafkaRouter
from prometheus_client import Counter

from services.recommender import store
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.erasure import confirmations
from shared.messages import Envelope, FeedbackGiven
from shared.messages.recommendations import RecommendationsMade
from shared.metrics import count_each
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork


def build_router(
    runtime: ServiceRuntime[UnitOfWork],
    on_applied: Callable[[list[str]], None] = lambda _owners: None,
) -> KafkaRouter:
    """``on_applied`` is told the owners of each applied batch (the scheduler wakes up)."""
    router = runtime.router()
    applied_total = Counter(
        "springboard_recommender_updates_total",
        "Network updates and feedback projected, by topic.",
        ["topic"],
        registry=runtime.registry,
    )
    router.publisher(
        topics.RECOMMENDATIONS,
        title="recommendations",
        schema=Envelope[RecommendationsMade],
        description="Ranked, explained candidates per owner.",
    )

    def project(session: UnitOfWork, batch: list[Decoded]) -> list[str]:
        now = datetime.now(UTC)
        changes = []
        for item in batch:
            envelope = item.envelope
            if isinstance(envelope.data, FeedbackGiven):
                store.record_feedback(
                    session,
                    owner_id=envelope.owner_id,
                    suggestion_id=envelope.data.suggestion_id,
                    action=envelope.data.action.value,
                    at=envelope.time,
                )
            else:
                changes += [(envelope.owner_id, change) for change in envelope.data.changes]
        store.apply_changes(session, changes)
        oldest: dict[str, tuple[datetime, str | None]] = {}
        for item in batch:
            envelope = item.envelope
            earliest = oldest.get(envelope.owner_id)
            if earliest is None or envelope.time < earliest[0]:
                oldest[envelope.owner_id] = (envelope.time, envelope.correlation_id or envelope.id)
        store.mark_changed(session, inputs=oldest, at=now)
        return list(oldest)

    async def on_updates(batch: list[Decoded]) -> list[Rejected]:
        owners, failed = await runtime.database.apply_batch(batch, project)
        await runtime.publisher.publish_all(
            confirmations("recommender", [i.envelope for i in applied(batch, failed)])
        )
        count_each(applied_total, (item.topic for item in batch))
        on_applied(list(dict.fromkeys(owners)))
        return failed

    runtime.consumer.subscribe(
        router,
        topics.NETWORK_UPDATES,
        topics.FEEDBACK,
        title="recommender-updates",
        process=on_updates,
    )
    return router
