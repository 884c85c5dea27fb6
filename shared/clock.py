"""Time helpers."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """Timezone-aware; SQLite hands back naive datetimes, which were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
