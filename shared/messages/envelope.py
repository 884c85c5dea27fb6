"""The CloudEvents-style envelope every message travels in."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, TypeVar
from uuid import uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

OWNER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
MESSAGE_ID_MAX = 128

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Every time in every message lies in [EARLIEST, LATEST): a year-1 or year-9999 time with
an offset is year 0 or 10000 in UTC, which PostgreSQL stores and no driver reads back, so
one such record would stop every read of its owner's rows."""


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"{value.isoformat()} is outside the supported range "
            f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)"
        )
    return value


def _day_in_range(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(
            f"{value.isoformat()} is outside the supported range "
            f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}"
        )
    return value


Id = Annotated[str, Field(min_length=1, max_length=MESSAGE_ID_MAX)]
"""An id one service gives and another keeps: bounded like every string a store indexes
(an 8,000-character id is past what a PostgreSQL index row can hold)."""
Name = Annotated[str, Field(max_length=200)]
ShortText = Annotated[str, Field(max_length=500)]


def validation_reason(error: ValidationError, limit: int = 5) -> str:
    """A validation error as one line: where and what, for the first ``limit`` problems."""
    parts = []
    for item in error.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in item["loc"]) or "message"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
"""A timezone-aware time within the supported range."""
Day = Annotated[date, AfterValidator(_day_in_range)]
"""A calendar day within the supported range."""


class Message(BaseModel):
    """Base of every message body: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str] = ""


DataT = TypeVar("DataT", bound=BaseModel)


class Envelope(BaseModel, Generic[DataT]):
    """One message on any Springboard topic; the Kafka key is always ``owner_id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        default_factory=lambda: str(uuid4()),
        min_length=1,
        max_length=MESSAGE_ID_MAX,
        description="Unique id of this message; replays carry the same id.",
        examples=["5f0c1b9e-8a1e-4a8f-9a51-7d2b8f3c9e10"],
    )
    type: str = Field(
        description="What the data is, e.g. springboard.contact.upserted.",
        examples=["springboard.contact.upserted"],
    )
    source: str = Field(
        min_length=1,
        max_length=256,
        description="Who produced it: an importer, a CRM, a service.",
        examples=["import:vcard"],
    )
    time: Moment = Field(
        description="When the fact happened or the request was made (timezone-aware, "
        "1900-01-01 to 2200-01-01 UTC).",
        examples=["2026-11-28T09:30:00Z"],
    )
    owner_id: str = Field(
        pattern=OWNER_ID_PATTERN,
        description="The Springboard user whose network this is; also the Kafka key.",
        examples=["maria.lindqvist"],
    )
    correlation_id: str | None = Field(
        None,
        max_length=128,
        description="Id of the input this message derives from, carried end to end.",
        examples=["5f0c1b9e-8a1e-4a8f-9a51-7d2b8f3c9e10"],
    )
    data: DataT = Field(description="The message body; its schema depends on `type`.")

    @model_validator(mode="after")
    def _type_names_the_data(self) -> Envelope[DataT]:
        expected = getattr(self.data, "TYPE", "")
        if expected and self.type != expected:
            raise ValueError(f"type {self.type!r} does not match its data ({expected!r})")
        return self


def derived_id(base: str, suffix: str) -> str:
    """The id of a message derived from message ``base`` (a replay derives the same one),
    kept within an id's length: a long ``base`` is replaced by its SHA-1."""
    derived = f"{base}/{suffix}"
    if len(derived) <= MESSAGE_ID_MAX:
        return derived
    return f"{hashlib.sha1(base.encode()).hexdigest()}/{suffix}"[:MESSAGE_ID_MAX]


@cache
def _envelope_of(data_type: type[Message]) -> type[Envelope[Any]]:
    """``Envelope[data_type]``, once: pydantic's own look-up is slow on hot paths."""
    return Envelope[data_type]  # type: ignore[valid-type]


def wrap(
    data: Message,
    *,
    owner_id: str,
    source: str,
    time: datetime | None = None,
    correlation_id: str | None = None,
    message_id: str | None = None,
) -> Envelope[Any]:
    """Put ``data`` in an envelope whose ``type`` is the data's own."""
    extra = {"id": message_id} if message_id else {}
    return _envelope_of(type(data))(
        type=data.TYPE,
        source=source,
        time=time or datetime.now(UTC),
        owner_id=owner_id,
        correlation_id=correlation_id,
        data=data,
        **extra,
    )
