"""The notifier's own tables (prefix ``notify_``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


class NotifySuggestion(SQLModel, table=True):
    """A suggestion chosen for an owner; ``published_at`` is set once it is on the topic."""

    __tablename__ = "notify_suggestion"

    suggestion_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    kind: str
    subject_id: str
    introducer_id: str | None = None
    rank: int = 0
    input_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    """The oldest input behind the ranked list this came from (end-to-end latency)."""
    correlation_id: str | None = None
    payload: dict[str, Any] = Field(sa_column=Column(JSON))
    chosen_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class NotifyPreferences(SQLModel, table=True):
    """An owner's channels, cadence, quiet hours and budget (from the preferences topic)."""

    __tablename__ = "notify_preferences"

    owner_id: str = Field(primary_key=True)
    email: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    cadence: str = "daily"
    digest_hour: int = 8
    quiet_hours_start: int | None = None
    quiet_hours_end: int | None = None
    timezone: str = "Europe/Stockholm"
    weekly_budget: int | None = None


class NotifyDelivery(SQLModel, table=True):
    """One suggestion to one channel: the delivery log, and the queue the dispatcher works.

    ``delivery_id`` is also the idempotency key the receiver sees.
    """

    __tablename__ = "notify_delivery"

    delivery_id: str = Field(primary_key=True)
    suggestion_id: str = Field(index=True)
    owner_id: str = Field(index=True)
    channel: str  # webhook | email
    status: str = Field(default="pending", index=True)  # pending | delivered | dead
    attempts: int = 0
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), index=True))
    last_error: str | None = None
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class NotifyLinkUse(SQLModel, table=True):
    """A feedback link that has been answered: each link acts once, so an old link clicked
    again (or a mail scanner) can never override a newer answer. Kept until it expires."""

    __tablename__ = "notify_link_use"

    token_digest: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), index=True))


class NotifyAnswer(SQLModel, table=True):
    """The owner's latest answer to a suggestion, from the page or a one-click link: the
    page shows what is still open and what was taken up."""

    __tablename__ = "notify_answer"

    suggestion_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    action: str  # accepted | done | snoozed | dismissed
    answered_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))


class NotifyOwner(SQLModel, table=True):
    """What the owner's page shows besides suggestions: their goals as they last set them
    (from the goals topic) and their network map (published with each ranked list)."""

    __tablename__ = "notify_owner"

    owner_id: str = Field(primary_key=True)
    goals: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    network: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    network_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


TABLES: tuple[type[SQLModel], ...] = (
    NotifySuggestion,
    NotifyPreferences,
    NotifyDelivery,
    NotifyLinkUse,
    NotifyAnswer,
    NotifyOwner,
)
