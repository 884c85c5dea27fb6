"""The notifier's persistence: chosen suggestions, and which are still to publish."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import col, delete, or_, select

from services.notifier.models import (
    NotifyAnswer,
    NotifyDelivery,
    NotifyLinkUse,
    NotifyOwner,
    NotifyPreferences,
    NotifySuggestion,
)
from shared.clock import as_utc
from shared.messages import GoalsSet, NetworkSummary, PreferencesSet
from shared.messages.network import OwnerErased, PersonErased
from shared.unit_of_work import UnitOfWork, upsert

# The queries of every ranked list, built once (building one costs more than running it
# for the few rows a list has).
_CHOSEN_SINCE = select(NotifySuggestion).where(
    NotifySuggestion.owner_id == bindparam("owner_id"),
    col(NotifySuggestion.chosen_at) >= bindparam("since"),
)
_KNOWN_IDS = select(NotifySuggestion.suggestion_id).where(
    NotifySuggestion.owner_id == bindparam("owner_id"),
    col(NotifySuggestion.suggestion_id).in_(bindparam("ids", expanding=True)),
)
_UNPUBLISHED = (
    select(NotifySuggestion)
    .where(
        col(NotifySuggestion.owner_id).in_(bindparam("owner_ids", expanding=True)),
        col(NotifySuggestion.published_at).is_(None),
    )
    .order_by(col(NotifySuggestion.chosen_at), col(NotifySuggestion.rank))
)
_BY_IDS = select(NotifySuggestion).where(
    col(NotifySuggestion.suggestion_id).in_(bindparam("ids", expanding=True))
)


def chosen_since(session: UnitOfWork, *, owner_id: str, since: datetime) -> list[NotifySuggestion]:
    return list(session.exec(_CHOSEN_SINCE, params={"owner_id": owner_id, "since": since}).all())


def known_ids(session: UnitOfWork, *, owner_id: str, ids: Sequence[str]) -> set[str]:
    return set(session.exec(_KNOWN_IDS, params={"owner_id": owner_id, "ids": list(ids)}).all())


def save_chosen(session: UnitOfWork, *, rows: Sequence[NotifySuggestion]) -> None:
    upsert(
        session, NotifySuggestion, [r.model_dump() for r in rows], keys=["suggestion_id"], update=[]
    )


def unpublished(session: UnitOfWork, *, owner_ids: Sequence[str]) -> list[NotifySuggestion]:
    return list(session.exec(_UNPUBLISHED, params={"owner_ids": list(owner_ids)}).all())


def mark_published(session: UnitOfWork, *, ids: Sequence[str], at: datetime) -> None:
    for row in session.exec(_BY_IDS, params={"ids": list(ids)}).all():
        row.published_at = at
        session.add(row)


def week_ago(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=7)


def preferences(session: UnitOfWork, *, owner_id: str) -> NotifyPreferences | None:
    return session.get(NotifyPreferences, owner_id)


def save_preferences(session: UnitOfWork, *, owner_id: str, prefs: PreferencesSet) -> None:
    row = {"owner_id": owner_id, **prefs.model_dump(mode="json")}
    upsert(session, NotifyPreferences, [row], keys=["owner_id"])


def save_deliveries(session: UnitOfWork, *, rows: Sequence[NotifyDelivery]) -> None:
    """New deliveries only: a replayed suggestion never resets one already under way."""
    upsert(session, NotifyDelivery, [r.model_dump() for r in rows], keys=["delivery_id"], update=[])


def erase(session: UnitOfWork, *, owner_id: str, change: PersonErased | OwnerErased) -> None:
    """Forget an erased person (every suggestion about them or naming them as introducer,
    and its deliveries), or everything of an erased owner."""
    query = select(NotifySuggestion).where(NotifySuggestion.owner_id == owner_id)
    if isinstance(change, PersonErased):
        query = query.where(
            or_(
                NotifySuggestion.subject_id == change.person_id,
                NotifySuggestion.introducer_id == change.person_id,
            )
        )
    doomed = list(session.exec(query).all())
    ids = [row.suggestion_id for row in doomed]
    if ids:
        session.exec(delete(NotifyDelivery).where(col(NotifyDelivery.suggestion_id).in_(ids)))
    for row in doomed:
        session.delete(row)
    if ids:
        session.exec(delete(NotifyAnswer).where(col(NotifyAnswer.suggestion_id).in_(ids)))
    if isinstance(change, OwnerErased):
        session.exec(delete(NotifyDelivery).where(col(NotifyDelivery.owner_id) == owner_id))
        session.exec(delete(NotifyAnswer).where(col(NotifyAnswer.owner_id) == owner_id))
        session.exec(delete(NotifyOwner).where(col(NotifyOwner.owner_id) == owner_id))
        session.exec(delete(NotifyLinkUse).where(col(NotifyLinkUse.owner_id) == owner_id))
        preferences_row = session.get(NotifyPreferences, owner_id)
        if preferences_row is not None:
            session.delete(preferences_row)


def link_used(session: UnitOfWork, *, token_digest: str) -> bool:
    return session.get(NotifyLinkUse, token_digest) is not None


def use_link(
    session: UnitOfWork, *, token_digest: str, owner_id: str, expires_at: datetime, now: datetime
) -> None:
    """Remember an answered link until it expires (and forget those that have)."""
    session.exec(delete(NotifyLinkUse).where(col(NotifyLinkUse.expires_at) < now))
    if session.get(NotifyLinkUse, token_digest) is None:
        session.add(
            NotifyLinkUse(token_digest=token_digest, owner_id=owner_id, expires_at=expires_at)
        )


def save_goals(session: UnitOfWork, *, owner_id: str, goals: GoalsSet) -> None:
    row = {"owner_id": owner_id, "goals": goals.model_dump(mode="json")}
    upsert(session, NotifyOwner, [row], keys=["owner_id"], update=["goals"])


def save_network(
    session: UnitOfWork, *, owner_id: str, network: NetworkSummary, at: datetime
) -> None:
    """The map scored at ``at``, unless a newer one is already kept."""
    row = session.get(NotifyOwner, owner_id)
    if row is None:
        row = NotifyOwner(owner_id=owner_id)
    elif row.network_at is not None and as_utc(row.network_at) > at:
        return
    row.network = network.model_dump(mode="json")
    row.network_at = at
    session.add(row)


def owner(session: UnitOfWork, *, owner_id: str) -> NotifyOwner | None:
    return session.get(NotifyOwner, owner_id)


def answers(session: UnitOfWork, *, owner_id: str) -> dict[str, NotifyAnswer]:
    query = select(NotifyAnswer).where(NotifyAnswer.owner_id == owner_id)
    return {row.suggestion_id: row for row in session.exec(query).all()}


def save_answer(
    session: UnitOfWork, *, owner_id: str, suggestion_id: str, action: str, at: datetime
) -> None:
    row = {
        "suggestion_id": suggestion_id,
        "owner_id": owner_id,
        "action": action,
        "answered_at": at,
    }
    upsert(session, NotifyAnswer, [row], keys=["suggestion_id"])
