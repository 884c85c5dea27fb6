"""The recommender's own tables (prefix ``rec_``): a projection of the network updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


def _aware(nullable: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)


class RecPerson(SQLModel, table=True):
    __tablename__ = "rec_person"

    owner_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    full_name: str
    company: str | None = None
    function: str | None = None
    seniority: str | None = None
    industry: str | None = None
    city: str | None = None
    is_contact: bool = False
    is_customer: bool = False
    is_self: bool = False
    introduced_by: str | None = None


class RecInteraction(SQLModel, table=True):
    __tablename__ = "rec_interaction"

    owner_id: str = Field(primary_key=True)
    interaction_id: str = Field(primary_key=True)
    occurred_at: datetime = Field(sa_column=_aware())
    person_ids: list[str] = Field(sa_column=Column(JSON))
    organizer_id: str | None = None
    cancelled: bool = False


class RecEvent(SQLModel, table=True):
    __tablename__ = "rec_event"

    owner_id: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    title: str
    starts_at: datetime = Field(sa_column=_aware())
    city: str | None = None
    topics: list[str] = Field(sa_column=Column(JSON))
    series: str | None = None


class RecAttendance(SQLModel, table=True):
    __tablename__ = "rec_attendance"

    owner_id: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    status: str


class RecGoals(SQLModel, table=True):
    __tablename__ = "rec_goals"

    owner_id: str = Field(primary_key=True)
    home_city: str | None = None
    industries: list[str] = Field(sa_column=Column(JSON))
    functions: list[str] = Field(sa_column=Column(JSON))
    cities: list[str] = Field(sa_column=Column(JSON))
    interests: list[str] = Field(sa_column=Column(JSON))


class RecFavour(SQLModel, table=True):
    __tablename__ = "rec_favour"

    owner_id: str = Field(primary_key=True)
    favour_id: str = Field(primary_key=True)
    person_id: str
    direction: str
    kind: str
    occurred_at: datetime = Field(sa_column=_aware())


class RecIssued(SQLModel, table=True):
    """Suggestions this recommender has put forward, to map feedback back to its subject."""

    __tablename__ = "rec_issued"

    owner_id: str = Field(primary_key=True)
    suggestion_id: str = Field(primary_key=True)
    kind: str
    subject_id: str
    issued_at: datetime = Field(sa_column=_aware())


class RecFeedback(SQLModel, table=True):
    __tablename__ = "rec_feedback"

    owner_id: str = Field(primary_key=True)
    suggestion_id: str = Field(primary_key=True)
    action: str
    given_at: datetime = Field(sa_column=_aware())


class RecOwnerState(SQLModel, table=True):
    """When an owner's network last changed and was last scored (drives re-scoring)."""

    __tablename__ = "rec_owner_state"

    owner_id: str = Field(primary_key=True)
    changed_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    scored_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    input_at: datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    """Time of the oldest input not yet reflected in a published list."""
    correlation_id: str | None = None
    """That input's correlation id, carried on to the list and its suggestions."""


TABLES: tuple[type[SQLModel], ...] = (
    RecPerson,
    RecInteraction,
    RecEvent,
    RecAttendance,
    RecGoals,
    RecFavour,
    RecIssued,
    RecFeedback,
    RecOwnerState,
)
