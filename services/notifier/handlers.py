"""The notifier's Kafka handler: ranked lists in, budgeted suggestions out.

Chosen suggestions are written first (an outbox); they are published after the commit
and marked published after the broker confirmed them. A crash in between publishes
them on the next batch for that owner (with the same id), never loses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from faststream.kafka import KafkaRouter
from prometheus_client import Counter, Histogram

from services.notifier import budget, store
from services.notifier.dispatcher import due_at_for
from services.notifier.models import NotifyDelivery, NotifyPreferences, NotifySuggestion
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.broker import Decoded, Rejected, applied
from shared.clock import as_utc
from shared.erasure import confirmations
from shared.messages import Envelope, PreferencesSet, RecommendationsMade, SuggestionMade, wrap
from shared.messages.network import OwnerErased, PersonErased
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

SOURCE = "springboard.notifier"


def choose_for_owner(
    session: UnitOfWork,
    *,
    owner_id: str,
    made: RecommendationsMade,
    settings: NotifierSettings,
    now: datetime,
    correlation_id: str | None = None,
) -> list[NotifySuggestion]:
    horizon = now - timedelta(days=max(settings.cooldown_days, 7.0))
    recent = store.chosen_since(session, owner_id=owner_id, since=horizon)
    week = now - timedelta(days=7)
    cooldown = now - timedelta(days=settings.cooldown_days)
    used = sum(1 for r in recent if as_utc(r.chosen_at) >= week)
    prefs = store.preferences(session, owner_id=owner_id)
    weekly = prefs.weekly_budget if prefs and prefs.weekly_budget is not None else None
    picked = budget.choose(
        made.items,
        remaining=(weekly if weekly is not None else settings.weekly_budget) - used,
        already_chosen=store.known_ids(
            session, owner_id=owner_id, ids=[i.suggestion_id for i in made.items]
        ),
        cooling_subjects=[r.subject_id for r in recent if as_utc(r.chosen_at) >= cooldown],
    )
    rows = []
    for position, item in enumerate(picked, start=used + 1):
        suggestion = SuggestionMade(
            suggestion_id=item.suggestion_id,
            kind=item.kind,
            headline=budget.headline(item),
            subject_id=item.subject_id,
            subject_name=item.subject_name,
            introducer_name=item.introducer_name,
            score=item.score,
            rank=position,
            reasons=item.reasons,
            model_version=made.model_version,
        )
        rows.append(
            NotifySuggestion(
                suggestion_id=item.suggestion_id,
                owner_id=owner_id,
                kind=item.kind.value,
                subject_id=item.subject_id,
                introducer_id=item.introducer_id,
                rank=position,
                payload=suggestion.model_dump(mode="json"),
                input_at=made.oldest_input_at,
                correlation_id=correlation_id,
                chosen_at=now,
            )
        )
    store.save_chosen(session, rows=rows)
    if prefs is not None:
        store.save_deliveries(session, rows=deliveries_for(rows, prefs, now))
    return rows


def deliveries_for(
    rows: Sequence[NotifySuggestion], prefs: NotifyPreferences, now: datetime
) -> list[NotifyDelivery]:
    """One delivery per suggestion and configured channel, due when the owner wants it."""
    channels = [c for c, on in (("webhook", prefs.webhook_url), ("email", prefs.email)) if on]
    return [
        NotifyDelivery(
            delivery_id=f"{channel}:{row.suggestion_id}",
            suggestion_id=row.suggestion_id,
            owner_id=row.owner_id,
            channel=channel,
            due_at=due_at_for(channel, now, prefs),
        )
        for row in rows
        for channel in channels
    ]


def build_router(runtime: ServiceRuntime[UnitOfWork], settings: NotifierSettings) -> KafkaRouter:
    router = runtime.router()
    end_to_end = Histogram(
        "springboard_notifier_end_to_end_seconds",
        "From an input's time to the publication of the suggestion it led to.",
        buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
        registry=runtime.registry,
    )
    published_total = Counter(
        "springboard_notifier_suggestions_total",
        "Suggestions published, by kind.",
        ["kind"],
        registry=runtime.registry,
    )
    router.publisher(
        topics.SUGGESTIONS,
        title="suggestions",
        schema=Envelope[SuggestionMade],
        description="Suggestions as the owner sees them.",
    )

    def choose_batch(session: UnitOfWork, batch: list[Decoded]) -> list[str]:
        now = datetime.now(UTC)
        for item in batch:
            if isinstance(item.envelope.data, PersonErased | OwnerErased):
                store.erase(session, owner_id=item.envelope.owner_id, change=item.envelope.data)
                continue
            if isinstance(item.envelope.data, PreferencesSet):
                store.save_preferences(
                    session, owner_id=item.envelope.owner_id, prefs=item.envelope.data
                )
                continue
            choose_for_owner(
                session,
                owner_id=item.envelope.owner_id,
                made=item.envelope.data,
                settings=settings,
                now=now,
                correlation_id=item.envelope.correlation_id,
            )
        return [item.envelope.owner_id for item in batch]

    async def publish_pending(owner_ids: Sequence[str]) -> None:
        pending = await runtime.database.in_transaction(
            lambda s: store.unpublished(s, owner_ids=sorted(set(owner_ids)))
        )
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
        await runtime.database.in_transaction(
            lambda s: store.mark_published(
                s, ids=[row.suggestion_id for row in pending], at=published_at
            )
        )
        for row in pending:
            published_total.labels(row.kind).inc()
            if row.input_at is not None:
                end_to_end.observe((published_at - as_utc(row.input_at)).total_seconds())

    async def on_recommendations(batch: list[Decoded]) -> list[Rejected]:
        owners, failed = await runtime.database.apply_batch(batch, choose_batch)
        await runtime.publisher.publish_all(
            confirmations("notifier", [i.envelope for i in applied(batch, failed)])
        )
        await publish_pending(owners)
        return failed

    runtime.consumer.subscribe(
        router,
        topics.RECOMMENDATIONS,
        topics.PREFERENCES,
        topics.ERASURES,
        title="notifier-recommendations",
        process=on_recommendations,
    )
    return router
