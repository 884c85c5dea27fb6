"""The notifier's rules: which of a ranked list to tell the owner, and when.

A weekly budget per owner, no suggestion twice, a cool-down per person or event, and a
delivery per channel the owner set up, due when they want to hear: after their quiet
hours, and for e-mail at their digest time. Chosen suggestions are written first (an
outbox): ``handlers`` publishes them after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifier import store
from services.notifier.models import NotifyDelivery, NotifyPreferences, NotifySuggestion
from services.notifier.settings import NotifierSettings
from shared.broker import Decoded
from shared.clock import as_utc
from shared.messages import GoalsSet, PreferencesSet, RecommendationsMade, SuggestionMade
from shared.messages.network import OwnerErased, PersonErased
from shared.messages.recommendations import RankedItem
from shared.unit_of_work import UnitOfWork


def apply_batch(work: UnitOfWork, batch: list[Decoded], *, settings: NotifierSettings) -> list[str]:
    """Erase, save preferences or goals, or keep the map and choose from a ranked list, by
    what each message is; the owners of the batch."""
    now = datetime.now(UTC)
    for item in batch:
        envelope = item.envelope
        if isinstance(envelope.data, PersonErased | OwnerErased):
            store.erase(work, owner_id=envelope.owner_id, change=envelope.data)
        elif isinstance(envelope.data, PreferencesSet):
            store.save_preferences(work, owner_id=envelope.owner_id, prefs=envelope.data)
        elif isinstance(envelope.data, GoalsSet):
            store.save_goals(work, owner_id=envelope.owner_id, goals=envelope.data)
        else:
            if envelope.data.network is not None:
                store.save_network(
                    work,
                    owner_id=envelope.owner_id,
                    network=envelope.data.network,
                    at=as_utc(envelope.data.generated_at),
                )
            choose_for_owner(
                work,
                owner_id=envelope.owner_id,
                made=envelope.data,
                settings=settings,
                now=now,
                correlation_id=envelope.correlation_id,
            )
    return [item.envelope.owner_id for item in batch]


def choose_for_owner(
    work: UnitOfWork,
    *,
    owner_id: str,
    made: RecommendationsMade,
    settings: NotifierSettings,
    now: datetime,
    correlation_id: str | None = None,
) -> list[NotifySuggestion]:
    horizon = now - timedelta(days=max(settings.cooldown_days, 7.0))
    recent = store.chosen_since(work, owner_id=owner_id, since=horizon)
    week = now - timedelta(days=7)
    cooldown = now - timedelta(days=settings.cooldown_days)
    used = sum(1 for r in recent if as_utc(r.chosen_at) >= week)
    prefs = store.preferences(work, owner_id=owner_id)
    weekly = prefs.weekly_budget if prefs and prefs.weekly_budget is not None else None
    picked = choose(
        made.items,
        remaining=(weekly if weekly is not None else settings.weekly_budget) - used,
        already_chosen=store.known_ids(
            work, owner_id=owner_id, ids=[i.suggestion_id for i in made.items]
        ),
        cooling_subjects=[r.subject_id for r in recent if as_utc(r.chosen_at) >= cooldown],
    )
    rows = []
    for position, item in enumerate(picked, start=used + 1):
        suggestion = SuggestionMade(
            suggestion_id=item.suggestion_id,
            kind=item.kind,
            headline=headline(item),
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
    store.save_chosen(work, rows=rows)
    if prefs is not None:
        store.save_deliveries(work, rows=deliveries_for(rows, prefs, now))
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


def choose(
    items: Sequence[RankedItem],
    *,
    remaining: int,
    already_chosen: Iterable[str],
    cooling_subjects: Iterable[str],
) -> list[RankedItem]:
    """Up to ``remaining`` items, taking each kind's best in turn (kinds ordered by their
    best score), skipping suggestion ids already chosen and subjects in cool-down."""
    if remaining <= 0:
        return []
    seen_ids = set(already_chosen)
    cooling = set(cooling_subjects)
    queues: dict[str, list[RankedItem]] = {}
    for item in sorted(items, key=lambda i: (i.kind.value, i.rank)):
        if item.suggestion_id in seen_ids or item.subject_id in cooling:
            continue
        queues.setdefault(item.kind.value, []).append(item)
    order = sorted(queues, key=lambda kind: -queues[kind][0].score)
    chosen: list[RankedItem] = []
    subjects: set[str] = set()
    while len(chosen) < remaining and any(queues[k] for k in order):
        for kind in order:
            while queues[kind]:
                item = queues[kind].pop(0)
                if item.subject_id not in subjects:
                    chosen.append(item)
                    subjects.add(item.subject_id)
                    break
            if len(chosen) == remaining:
                break
    return chosen


def headline(item: RankedItem) -> str:
    match item.kind.value:
        case "reconnect":
            return f"Get back in touch with {item.subject_name}"
        case "introduction":
            return f"Ask {item.introducer_name} to introduce you to {item.subject_name}"
        case "event":
            return f"Attend {item.subject_name}"
        case _:
            return f"Return the favour to {item.subject_name}"


# -- When a delivery may go out ------------------------------------------------


def due_at_for(channel: str, now: datetime, prefs: NotifyPreferences) -> datetime:
    """Quiet hours for everything; digest times for e-mail."""
    return after_quiet_hours(now, prefs) if channel == "webhook" else next_digest(now, prefs)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(local: datetime, start: int | None, end: int | None) -> bool:
    if start is None or end is None or start == end:
        return False
    hour = local.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def after_quiet_hours(now: datetime, prefs: NotifyPreferences) -> datetime:
    """``now``, or the end of the owner's quiet hours if ``now`` falls inside them."""
    local = now.astimezone(_zone(prefs.timezone))
    if not in_quiet_hours(local, prefs.quiet_hours_start, prefs.quiet_hours_end):
        return now
    end = local.replace(hour=prefs.quiet_hours_end or 0, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


def next_digest(now: datetime, prefs: NotifyPreferences) -> datetime:
    """When the e-mail digest that would carry a suggestion made ``now`` goes out."""
    if prefs.cadence == "instant":
        return after_quiet_hours(now, prefs)
    local = now.astimezone(_zone(prefs.timezone))
    send = local.replace(hour=prefs.digest_hour, minute=0, second=0, microsecond=0)
    if send <= local:
        send += timedelta(days=1)
    if prefs.cadence == "weekly":
        send += timedelta(days=(7 - send.weekday()) % 7)  # Mondays
    return after_quiet_hours(send.astimezone(now.tzinfo), prefs)
