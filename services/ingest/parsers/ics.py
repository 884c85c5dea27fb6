"""iCalendar files and feeds from Google, Outlook/Exchange, Apple, Meetup, Zimbra, Nextcloud.

A VEVENT with attendees is a meeting (an interaction); one without is a public event.
Recurring series are expanded within a bounded window, and each series separately up to
a cap, so an unbounded or huge RRULE cannot flood the system. Times end up timezone-aware:
VTIMEZONE and Windows zone names are resolved by icalendar, Google's X-WR-TIMEZONE by
x-wr-timezone, and floating or all-day times take the owner's time zone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from services.ingest.parsers.common import Item, Parsed, Problem, clean_email, stable_key
from shared import topics
from shared.messages.inputs import Attendee, EventAnnounced, MeetingRecorded, ResponseStatus

MAX_BYTES = 50_000_000
MAX_OCCURRENCES_PER_SERIES = 500


@dataclass(frozen=True)
class Window:
    """Which occurrences of recurring series are imported."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, *, past_days: int = 3 * 365, future_days: int = 365) -> Window:
        return cls(now - timedelta(days=past_days), now + timedelta(days=future_days))


PARTSTAT = {
    "ACCEPTED": ResponseStatus.ACCEPTED,
    "DECLINED": ResponseStatus.DECLINED,
    "TENTATIVE": ResponseStatus.TENTATIVE,
}


def _aware(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):  # all-day: midnight in the owner's zone
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _uid_lines(lines: list[str]) -> dict[str, int]:
    """UID -> line number of the BEGIN:VEVENT that carries it (first one)."""
    found: dict[str, int] = {}
    begin = 0
    for number, line in enumerate(lines, start=1):
        upper = line.upper()
        if upper.startswith("BEGIN:VEVENT"):
            begin = number
        elif upper.startswith("UID") and begin:
            uid = line.split(":", 1)[-1].strip()
            found.setdefault(uid, begin)
    return found


def _blocks(lines: list[str], name: str) -> list[tuple[int, str]]:
    """Each BEGIN:<name>…END:<name> block with its first line number."""
    out, current, start = [], None, 0
    for number, line in enumerate(lines, start=1):
        upper = line.strip().upper()
        if upper == f"BEGIN:{name}":
            current, start = [line], number
        elif current is not None:
            current.append(line)
            if upper == f"END:{name}":
                out.append((start, "\r\n".join(current)))
                current = None
    return out


def _calendars(
    text: str, lines: list[str]
) -> Iterator[tuple[icalendar.Calendar | None, Problem | None]]:
    """The whole calendar; if it does not parse, each VEVENT on its own with the time zones."""
    try:
        yield icalendar.Calendar.from_ical(text), None
        return
    except Exception as error:  # icalendar raises several kinds on malformed input
        whole_error = error
    zones = "\r\n".join(block for _, block in _blocks(lines, "VTIMEZONE"))
    events = _blocks(lines, "VEVENT")
    if not events:
        yield None, Problem(1, f"not a readable iCalendar file: {whole_error}")
        return
    for start, block in events:
        wrapped = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{zones}\r\n{block}\r\nEND:VCALENDAR\r\n"
        try:
            yield icalendar.Calendar.from_ical(wrapped), None
        except Exception as error:
            yield None, Problem(start, f"unreadable event: {error}")


def _email_of(value: Any) -> str | None:
    return clean_email(str(value)) if value else None


def _occurrence_id(component: Any, uid: str, recurring: bool, zone: ZoneInfo) -> str:
    if not recurring:
        return uid
    start = _aware(component["DTSTART"].dt, zone).astimezone(UTC)
    return f"{uid}/{start.strftime('%Y%m%dT%H%M%SZ')}"


def _to_item(
    component: Any, uid: str, line: int, recurring: bool, zone: ZoneInfo
) -> Iterator[Item]:
    """One occurrence as a message; a broken property rejects this event, not the file."""
    try:
        yield from _convert(component, uid, line, recurring, zone)
    except Exception as error:  # icalendar reports broken values as several error types
        yield Problem(line, f"event {uid!r} could not be read: {error}")


def _convert(
    component: Any, uid: str, line: int, recurring: bool, zone: ZoneInfo
) -> Iterator[Item]:
    if "DTSTART" not in component:
        yield Problem(line, f"event {uid!r} has no DTSTART")
        return
    starts_at = _aware(component["DTSTART"].dt, zone)
    ends_at = _aware(component["DTEND"].dt, zone) if "DTEND" in component else None
    title = str(component.get("SUMMARY", "")).strip()[:500]
    external_id = _occurrence_id(component, uid, recurring, zone)[:512]
    raw_attendees = component.get("ATTENDEE", [])
    if not isinstance(raw_attendees, list):
        raw_attendees = [raw_attendees]
    attendees = []
    for raw in raw_attendees:
        email = _email_of(raw)
        if email is None:
            yield Problem(
                line, f"attendee {str(raw)[:80]!r} has no valid e-mail; left out", "warning"
            )
            continue
        params = getattr(raw, "params", {})
        attendees.append(
            Attendee(
                email=email,
                name=(str(params.get("CN", "")).strip() or None),
                response=PARTSTAT.get(
                    str(params.get("PARTSTAT", "")).upper(), ResponseStatus.NEEDS_ACTION
                ),
            )
        )
    organizer = component.get("ORGANIZER")
    cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
    if attendees:
        yield Parsed(
            topics.MEETINGS,
            MeetingRecorded(
                external_id=external_id,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                organizer_email=_email_of(organizer),
                attendees=attendees[:500],
                cancelled=cancelled,
            ),
            line,
        )
        return
    categories: list[str] = []
    for group in (
        component.get("CATEGORIES", [])
        if isinstance(component.get("CATEGORIES"), list)
        else [component.get("CATEGORIES")]
        if component.get("CATEGORIES")
        else []
    ):
        categories += [str(c) for c in getattr(group, "cats", [group])]
    organizer_name = getattr(organizer, "params", {}).get("CN") if organizer else None
    location = str(component.get("LOCATION", "")).strip() or None
    yield Parsed(
        topics.EVENTS,
        EventAnnounced(
            external_id=external_id,
            title=title or "(untitled)",
            starts_at=starts_at,
            ends_at=ends_at,
            venue=location[:500] if location else None,
            city=_city(location),
            topics=[c.strip()[:200] for c in categories if c.strip()][:50],
            organizer=str(organizer_name)[:200] if organizer_name else None,
            url=str(component.get("URL"))[:1000] if component.get("URL") else None,
        ),
        line,
    )


def _city(location: str | None) -> str | None:
    """The city of a 'venue, street, postcode City, country' location, when it has that shape."""
    if not location:
        return None
    parts = [p.strip() for p in location.split(",") if p.strip()]
    for part in reversed(parts):
        words = re.sub(r"^\d[\d\s]*", "", part).strip()
        if words and not any(c.isdigit() for c in words) and len(parts) > 1:
            return words[:200]
    return None


SUB_DAILY = {"SECONDLY": "every second", "MINUTELY": "every minute", "HOURLY": "every hour"}


def _sub_daily(components: list[Any]) -> str | None:
    """How often a series recurs, if more often than daily (such rules are refused: expanding
    them is costly and no meeting rhythm is finer than a day)."""
    for component in components:
        rule = component.get("RRULE")
        rules = rule if isinstance(rule, list) else [rule] if rule else []
        for item in rules:
            for freq in item.get("FREQ", []):
                if str(freq).upper() in SUB_DAILY:
                    return SUB_DAILY[str(freq).upper()]
    return None


def parse(
    chunks: Iterable[bytes],
    *,
    now: datetime,
    zone: str = "Europe/Stockholm",
    window: Window | None = None,
) -> Iterator[Item]:
    """Meetings and events from one iCalendar document (up to ``MAX_BYTES``)."""
    data = b"".join(itertools.islice(chunks, None))
    if len(data) > MAX_BYTES:
        yield Problem(1, f"calendar of {len(data)} bytes exceeds {MAX_BYTES}")
        return
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.splitlines()
    uid_lines = _uid_lines(lines)
    window = window or Window.around(now)
    tz = ZoneInfo(zone)
    for calendar, problem in _calendars(text, lines):
        if problem is not None:
            yield problem
            continue
        assert calendar is not None
        try:
            calendar = x_wr_timezone.to_standard(calendar)
        except Exception as error:
            yield Problem(1, f"calendar time zone could not be applied: {error}", "warning")
        yield from _expand(calendar, uid_lines, tz, window)


def _expand(
    calendar: Any, uid_lines: dict[str, int], tz: ZoneInfo, window: Window
) -> Iterator[Item]:
    series: dict[str, list[Any]] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip()
        if not uid:
            start = component.get("DTSTART")
            uid = stable_key(str(component.get("SUMMARY", "")), str(start.dt) if start else "")
        series.setdefault(uid, []).append(component)
    zones = [c for c in calendar.walk("VTIMEZONE")]
    for uid, components in series.items():
        line = uid_lines.get(uid, 1)
        recurring = any("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c for c in components)
        if not recurring:
            for component in components:
                yield from _to_item(component, uid, line, False, tz)
            continue
        single = icalendar.Calendar()
        for zone in zones:
            single.add_component(zone)
        for component in components:
            single.add_component(component)
        too_often = _sub_daily(components)
        if too_often:
            yield Problem(line, f"series {uid!r} recurs {too_often}; not a meeting rhythm, skipped")
            continue
        try:
            query = recurring_ical_events.of(single, skip_bad_series=True)
            occurrences = sorted(
                query.between(window.start, window.end), key=lambda c: _aware(c["DTSTART"].dt, tz)
            )
            if len(occurrences) > MAX_OCCURRENCES_PER_SERIES:
                yield Problem(
                    line,
                    f"series {uid!r} stopped after {MAX_OCCURRENCES_PER_SERIES} "
                    f"of {len(occurrences)} occurrences",
                    "warning",
                )
            for occurrence in occurrences[:MAX_OCCURRENCES_PER_SERIES]:
                yield from _to_item(occurrence, uid, line, True, tz)
        except Exception as error:
            yield Problem(line, f"recurrence of {uid!r} could not be expanded: {error}")
