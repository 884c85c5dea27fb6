"""When a delivery may go out: quiet hours for everything, digest times for e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notifier.models import NotifyPreferences


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
