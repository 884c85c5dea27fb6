"""Ingest's own tables (prefix ``ingest_``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


def _aware() -> Any:
    return Column(DateTime(timezone=True))


class IngestOwner(SQLModel, table=True):
    __tablename__ = "ingest_owner"

    owner_id: str = Field(primary_key=True)
    full_name: str
    emails: list[str] = Field(sa_column=Column(JSON))
    country: str = "SE"


class IngestPerson(SQLModel, table=True):
    __tablename__ = "ingest_person"

    person_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    full_name: str
    company: str | None = None
    title: str | None = None
    function: str | None = None
    seniority: str | None = None
    industry: str | None = None
    city: str | None = None
    is_contact: bool = False
    is_customer: bool = False
    is_self: bool = False
    introduced_by: str | None = None


class IngestPersonKey(SQLModel, table=True):
    """Identity keys (e-mail, phone, profile, source id) that point at one person."""

    __tablename__ = "ingest_person_key"

    owner_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    value: str = Field(primary_key=True)
    person_id: str = Field(index=True)


class IngestMeeting(SQLModel, table=True):
    __tablename__ = "ingest_meeting"

    interaction_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    external_id: str
    title: str = ""
    starts_at: datetime = Field(sa_column=_aware())
    organizer_id: str | None = None
    person_ids: list[str] = Field(sa_column=Column(JSON))
    cancelled: bool = False


class IngestEvent(SQLModel, table=True):
    __tablename__ = "ingest_event"

    event_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    external_id: str
    title: str
    starts_at: datetime = Field(sa_column=_aware())
    city: str | None = None
    topics: list[str] = Field(sa_column=Column(JSON))
    series: str | None = None


class IngestAttendance(SQLModel, table=True):
    __tablename__ = "ingest_attendance"

    event_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    status: str


class IngestFavour(SQLModel, table=True):
    __tablename__ = "ingest_favour"

    favour_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    person_id: str
    direction: str
    kind: str
    occurred_at: datetime = Field(sa_column=_aware())


class IngestMerge(SQLModel, table=True):
    """Two records found to be one person: what was merged, why, and how to undo it."""

    __tablename__ = "ingest_merge"

    merge_id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    kept_id: str
    merged_id: str
    reason: str
    merged_person: dict[str, Any] = Field(sa_column=Column(JSON))
    moved: dict[str, Any] = Field(sa_column=Column(JSON))
    merged_at: datetime = Field(sa_column=_aware())
    undone_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class IngestWebhookReplay(SQLModel, table=True):
    """A webhook request accepted (its signed timestamp and signature), kept while a replay
    of it would still be inside the replay window."""

    __tablename__ = "ingest_webhook_replay"

    replay_key: str = Field(primary_key=True)
    signed_at: datetime = Field(sa_column=_aware())


class IngestSyncCollection(SQLModel, table=True):
    """A calendar or address book an owner syncs over CalDAV or CardDAV: the server's sync
    token and collection tag as of the last sync that went through."""

    __tablename__ = "ingest_sync_collection"

    owner_id: str = Field(primary_key=True)
    url: str = Field(primary_key=True)
    kind: str
    sync_token: str | None = None
    ctag: str | None = None
    synced_at: datetime = Field(sa_column=_aware())


class IngestSyncItem(SQLModel, table=True):
    """One member of a synced collection: its ETag, and what it was published as (each
    external id with what withdrawing it takes: a meeting's start, a contact's name)."""

    __tablename__ = "ingest_sync_item"

    owner_id: str = Field(primary_key=True)
    collection_url: str = Field(primary_key=True)
    href: str = Field(primary_key=True)
    etag: str
    published: dict[str, Any] = Field(sa_column=Column(JSON))


TABLES: tuple[type[SQLModel], ...] = (
    IngestSyncCollection,
    IngestSyncItem,
    IngestWebhookReplay,
    IngestOwner,
    IngestPerson,
    IngestPersonKey,
    IngestMeeting,
    IngestEvent,
    IngestAttendance,
    IngestFavour,
    IngestMerge,
)
