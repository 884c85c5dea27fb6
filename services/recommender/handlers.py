"""The recommender's Kafka handler: network updates and feedback in, owners to re-score.

It only translates: project the batch in one unit of work (``store.project_batch``), confirm
erasures, count, and wake the scheduler for the owners it changed. Scoring runs in the
scheduler, debounced per owner, so a burst of updates yields one fresh ranked list
instead of hundreds of stale ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from services.recommender.store import project_batch
from shared.broker import Decoded, Rejected, applied
from shared.erasure import confirmations
from shared.metrics import count_each
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork


def updates_counter(registry: CollectorRegistry) -> Counter:
    return Counter(
        "springboard_recommender_updates_total",
        "Network updates and feedback projected, by topic.",
        ["topic"],
        registry=registry,
    )


@dataclass(frozen=True)
class Recommender:
    """What the handler works with; ``on_applied`` is told the owners of each applied
    batch (the scheduler wakes up)."""

    runtime: ServiceRuntime[UnitOfWork]
    updates: Counter
    on_applied: Callable[[list[str]], None]


async def on_updates(recommender: Recommender, batch: list[Decoded]) -> list[Rejected]:
    runtime = recommender.runtime
    owners, failed = await runtime.database.apply_batch(batch, project_batch)
    done = applied(batch, failed)
    await runtime.publisher.publish_all(confirmations("recommender", [i.envelope for i in done]))
    count_each(recommender.updates, (item.topic for item in batch))
    recommender.on_applied(list(dict.fromkeys(owners)))
    return failed
