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
    rank: int = 0
    payload: dict[str, Any] = Field(sa_column=Column(JSON))
    chosen_at: datetime = Field(sa_column=Column(DateTime(timezone=True)))
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


TABLES: tuple[type[SQLModel], ...] = (NotifySuggestion,)
