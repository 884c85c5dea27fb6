"""iCalendar files and feeds from Google, Outlook/Exchange, Apple, Meetup, Zimbra, Nextcloud.

A calendar is read as its owner would read it. A VEVENT with other people in it is a
meeting (an interaction); the owner (``--me``, the calendar's name when it is an address,
or the address in nearly every meeting) is never one of its people, and neither are rooms,
resources, groups, lists or no-reply senders. An entry with no one else in it is the
owner's own time in a personal calendar, and an event to attend only in an event feed
(``events``, or a Meetup or Eventbrite export); there a cancelled event is skipped, and
two entries with the same title on the same day are one event.

Recurring series are expanded within a bounded window, each series up to a cap and the
whole file up to a cap, and a rule that recurs more often than daily (whatever its FREQ)
is refused before it is expanded, so no RRULE can flood the system. Times end up
timezone-aware: VTIMEZONE and Windows zone names are resolved by icalendar, Google's
X-WR-TIMEZONE by x-wr-timezone, and floating or all-day times take the owner's time zone.

One broken event is that event's problem, never the file's: an unreadable RRULE or
DTSTART rejects its series by name, an unreadable optional property (DTEND, LOCATION…)
is dropped with a warning and the event kept.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.prop import vBroken
from pydantic import ValidationError

from services.ingest import normalise
from services.ingest.parsers.common import Item, Parsed, Problem, clean_email, stable_key
from shared import topics
from shared.messages.envelope import validation_reason
from shared.messages.inputs import Attendee, EventAnnounced, MeetingRecorded, ResponseStatus

MAX_BYTES = 50_000_000
MAX_OCCURRENCES_PER_SERIES = 500
MAX_OCCURRENCES_PER_FILE = 20_000
# How many periods of its rule a series may step through to reach the window's end (a daily
# rule from the year 1 steps 740,000 days before the window): rule engines walk each one.
MAX_RULE_STEPS_PER_SERIES = 100_000
MAX_RULE_STEPS_PER_FILE = 1_000_000


@dataclass(frozen=True)
class Window:
    """Which occurrences of recurring series are imported."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime, *, past_days: int = 3 * 365, future_days: int = 365) -> Window:
        return cls(now - timedelta(days=past_days), now + timedelta(days=future_days))


@dataclass
class Reading:
    """How one calendar is read: whose it is, and whether it is a source of events."""

    zone: ZoneInfo
    owner: set[str] = field(default_factory=set)
    """The owner's own addresses: never a person of their network, never an attendee."""
    events: bool = False
    """An event feed (Meetup, Eventbrite, ``--events``): entries with no one else in them
    are events to attend. In a personal calendar they are the owner's own time."""
    seen_events: set[tuple[str, date]] = field(default_factory=set)
    """(folded title, day) of the events taken: a second entry with both is the same event."""


NOT_INDIVIDUALS = {"ROOM", "RESOURCE", "GROUP", "UNKNOWN"}
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
    """UID -> line number of the BEGIN:VEVENT that carries it (first one); a UID folded over
    several lines (Exchange folds long ones) is unfolded first."""
    found: dict[str, int] = {}
    begin = 0
    uid: str | None = None
    for number, line in enumerate(lines, start=1):
        if uid is not None and line[:1] in (" ", "\t"):
            uid += line[1:]
            continue
        if uid is not None:
            found.setdefault(uid.strip(), begin)
            uid = None
        upper = line.upper()
        if upper.startswith("BEGIN:VEVENT"):
            begin = number
        elif upper.startswith("UID") and begin:
            uid = line.split(":", 1)[-1]
    if uid is not None:
        found.setdefault(uid.strip(), begin)
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
    component: Any, uid: str, line: int, recurring: bool, reading: Reading
) -> Iterator[Item]:
    """One occurrence as a message; a broken property rejects this event, not the file."""
    try:
        yield from _convert(component, uid, line, recurring, reading)
    except ValidationError as error:  # a value the message schema refuses, e.g. year 2500
        yield Problem(line, f"event {uid!r}: {validation_reason(error, limit=1)}")
    except Exception as error:  # icalendar reports broken values as several error types
        yield Problem(line, f"event {uid!r} could not be read: {error}")


def _optional(component: Any, name: str, uid: str, line: int, problems: list[Problem]) -> Any:
    """An optional property, or None with a warning when its value cannot be read (real
    exporters write e.g. ``DTEND: 20261204T100000Z`` with a stray space)."""
    value = component.get(name)
    if isinstance(value, vBroken):
        problems.append(
            Problem(
                line,
                f"event {uid!r}: unreadable {name} {str(value)[:80]!r} left out",
                "warning",
                f"unreadable {name}",
            )
        )
        return None
    return value


def _attendees(
    raw_list: Any, line: int, reading: Reading, problems: list[Problem]
) -> tuple[list[Attendee], ResponseStatus | None]:
    """The people in a meeting other than the owner, and the owner's own answer (None when
    the owner is not listed). Rooms, resources, groups and addresses that are no one's
    (``normalise.not_a_person``) are left out: they are not people to meet."""
    raw_attendees = raw_list if isinstance(raw_list, list) else [raw_list] if raw_list else []
    attendees = []
    owner_answer = None
    for raw in raw_attendees:
        params = getattr(raw, "params", {})
        name = str(params.get("CN", "")).strip()[:200] or None
        email = _email_of(raw)
        answer = PARTSTAT.get(str(params.get("PARTSTAT", "")).upper(), ResponseStatus.NEEDS_ACTION)
        if email is not None and email in reading.owner:
            owner_answer = answer
            continue
        cutype = str(params.get("CUTYPE", "INDIVIDUAL")).upper()
        why = f"a {cutype.lower()}" if cutype in NOT_INDIVIDUALS else None
        why = why or (normalise.not_a_person(email) if email else None)
        if why:
            problems.append(
                Problem(
                    line,
                    f"attendee {name or email!r} is {why}, not a person; left out",
                    "skipped",
                    "not a person",
                )
            )
            continue
        if email is None and name is None:
            problems.append(
                Problem(
                    line,
                    f"attendee {str(raw)[:80]!r} has neither a usable address nor a name; left out",
                    "warning",
                    "attendee without address or name",
                )
            )
            continue
        if email is None:
            # A dotless domain (name@lisbon) or no address at all: still a person in the
            # meeting, kept by name.
            problems.append(
                Problem(
                    line,
                    f"attendee {name!r} has no usable address ({str(raw)[:80]!r}); kept by name",
                    "warning",
                    "attendee kept by name",
                )
            )
        attendees.append(Attendee(email=email, name=name, response=answer))
    return attendees, owner_answer


def _organizer_email(organizer: Any, reading: Reading) -> str | None:
    """Who sent the invitation, when that is someone else: the owner's own invitations and
    those of calendar systems (Google's unknownorganizer) say nothing about a contact."""
    email = _email_of(organizer)
    if email is None or email in reading.owner or normalise.not_a_person(email):
        return None
    return email


def _convert(
    component: Any, uid: str, line: int, recurring: bool, reading: Reading
) -> Iterator[Item]:
    zone = reading.zone
    if "DTSTART" not in component:
        yield Problem(line, f"event {uid!r} has no DTSTART")
        return
    if isinstance(component["DTSTART"], vBroken):
        value = str(component["DTSTART"])[:80] or "no value"
        yield Problem(line, f"event {uid!r} has an unreadable DTSTART ({value!r})")
        return
    problems: list[Problem] = [
        Problem(line, f"event {uid!r}: a line was left out: {error[:160]}", "warning", "bad line")
        for name, error in getattr(component, "errors", [])
        if name is None
    ]  # icalendar drops a content line it cannot split, and only notes it here
    starts_at = _aware(component["DTSTART"].dt, zone)
    end = _optional(component, "DTEND", uid, line, problems)
    ends_at = _aware(end.dt, zone) if end is not None else None
    if ends_at is not None and ends_at < starts_at:
        problems.append(
            Problem(line, f"event {uid!r} ends before it starts; end left out", "warning")
        )
        ends_at = None
    title = str(component.get("SUMMARY", "")).strip()[:500]
    external_id = _occurrence_id(component, uid, recurring, zone)[:512]
    attendees, owner_answer = _attendees(component.get("ATTENDEE", []), line, reading, problems)
    organizer = _optional(component, "ORGANIZER", uid, line, problems)
    cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
    yield from problems
    if attendees:
        yield Parsed(
            topics.MEETINGS,
            MeetingRecorded(
                external_id=external_id,
                title=title,
                starts_at=starts_at,
                ends_at=ends_at,
                organizer_email=_organizer_email(organizer, reading),
                attendees=attendees[:500],
                cancelled=cancelled,
                owner_declined=owner_answer is ResponseStatus.DECLINED,
            ),
            line,
        )
        return
    if not reading.events:
        # Gym, dentist, focus time, a birthday: the owner's own time, not an event to attend.
        yield Problem(
            line,
            f"{title or uid!r} has no one else in it: your own time, not an event",
            "skipped",
            "own entry",
        )
        return
    if cancelled:
        yield Problem(line, f"event {title or uid!r} is cancelled", "skipped", "cancelled event")
        return
    same = (" ".join(normalise.folded(title).split()), starts_at.astimezone(zone).date())
    if title and same in reading.seen_events:
        yield Problem(
            line, f"event {title!r} is listed twice that day; taken once", "skipped", "repeat"
        )
        return
    reading.seen_events.add(same)
    categories: list[str] = []
    raw_categories = _optional(component, "CATEGORIES", uid, line, problems) or []
    for group in raw_categories if isinstance(raw_categories, list) else [raw_categories]:
        categories += [str(c) for c in getattr(group, "cats", [group])]
    organizer_name = getattr(organizer, "params", {}).get("CN") if organizer else None
    location = str(component.get("LOCATION", "")).strip() or None
    url = _optional(component, "URL", uid, line, problems)
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
            url=str(url)[:1000] if url else None,
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


# A rule engine walks a rule period by period; these are the periods' lengths in days.
PERIOD_DAYS = {"YEARLY": 365, "MONTHLY": 28, "WEEKLY": 7, "DAILY": 1}
SUB_DAILY = {"SECONDLY": "every second", "MINUTELY": "every minute", "HOURLY": "every hour"}


@dataclass
class Budget:
    """What is left of the file's caps: occurrences imported and rule periods walked."""

    occurrences: int = MAX_OCCURRENCES_PER_FILE
    rule_steps: int = MAX_RULE_STEPS_PER_FILE
    series_left_out: int = 0
    first_left_out: int = 0


def _rules(component: Any) -> list[Any]:
    rule = component.get("RRULE")
    return rule if isinstance(rule, list) else [rule] if rule is not None else []


def _unexpandable(components: list[Any], window: Window, tz: ZoneInfo) -> tuple[str | None, int]:
    """Why a series is refused before it is expanded (None if it is not), and how many rule
    periods expanding it walks.

    Refused: an unreadable RRULE or DTSTART, and any rule that recurs more often than
    daily, whatever its FREQ (``FREQ=DAILY;BYHOUR=0,…,23`` is hourly): no meeting rhythm is
    finer than a day, and expanding such rules costs time and memory."""
    steps = 0
    for component in components:
        start = component.get("DTSTART")
        if isinstance(start, vBroken):
            return f"has an unreadable DTSTART ({str(start)[:80] or 'no value'!r})", 0
        for rule in _rules(component):
            if isinstance(rule, vBroken):
                return f"has an unreadable RRULE {str(rule)[:120]!r}", 0
            freq = str((rule.get("FREQ") or [""])[0]).upper()
            if freq in SUB_DAILY:
                return f"recurs {SUB_DAILY[freq]}; not a meeting rhythm", 0
            for part, unit in (("BYHOUR", "hour"), ("BYMINUTE", "minute"), ("BYSECOND", "second")):
                if len(set(rule.get(part, []))) > 1:
                    return (
                        f"recurs several times a day (by {unit}); not a meeting rhythm",
                        0,
                    )
            steps += _rule_steps(rule, freq, start, window, tz)
    return None, steps


def _rule_steps(rule: Any, freq: str, start: Any, window: Window, tz: ZoneInfo) -> int:
    if start is None or freq not in PERIOD_DAYS:
        return 0
    interval = max(int((rule.get("INTERVAL") or [1])[0]), 1)
    end = window.end
    until = rule.get("UNTIL")
    if until:
        end = min(end, _aware(until[0], tz))
    days = max((end - _aware(start.dt, tz)).days, 0)
    steps = days // (PERIOD_DAYS[freq] * interval) + 1
    count = rule.get("COUNT")
    return min(steps, int(count[0])) if count else steps


EVENT_PRODUCERS = ("meetup", "eventbrite")
OWNER_SHARE = 0.9
"""An address in at least this share of a calendar's meetings is its owner's."""


def _owner_addresses(calendar: Any, me: Iterable[str]) -> set[str]:
    """The owner's addresses: those given (``--me``), the calendar's name when it is an
    address (Google names a calendar after its owner), else the one address present in
    nearly every meeting (an owner is in all of their own meetings)."""
    owner = {e for e in (clean_email(m) for m in me) if e}
    named = clean_email(str(calendar.get("X-WR-CALNAME", "")))
    if named:
        owner.add(named)
    if owner:
        return owner
    present: Counter[str] = Counter()
    meetings = 0
    for component in calendar.walk("VEVENT"):
        raw = component.get("ATTENDEE", [])
        people = {_email_of(a) for a in (raw if isinstance(raw, list) else [raw]) if a}
        people.add(_email_of(component.get("ORGANIZER")))
        people.discard(None)
        if len(people) >= 2:
            meetings += 1
            present.update(p for p in people if p)
    if meetings >= 3:
        address, count = max(present.items(), key=lambda pair: (pair[1], pair[0]))
        if count >= OWNER_SHARE * meetings:
            owner.add(address)
    return owner


def parse(
    chunks: Iterable[bytes],
    *,
    now: datetime,
    zone: str = "Europe/Stockholm",
    window: Window | None = None,
    me: Iterable[str] = (),
    events: bool = False,
) -> Iterator[Item]:
    """Meetings and events from one iCalendar document (up to ``MAX_BYTES``, read as it
    streams in and refused as soon as it passes that).

    ``me``: the owner's addresses, when known; ``events``: the file is an event feed."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > MAX_BYTES:
            yield Problem(1, f"calendar larger than {MAX_BYTES:,} bytes; nothing imported")
            return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        yield Problem(1, "the calendar is not UTF-8; read as Windows-1252 (Latin-1)", "warning")
    del data
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    uid_lines = _uid_lines(lines)
    window = window or Window.around(now)
    tz = ZoneInfo(zone)
    budget = Budget()
    me = list(me)
    for calendar, problem in _calendars(text, lines):
        if problem is not None:
            yield problem
            continue
        assert calendar is not None
        try:
            calendar = x_wr_timezone.to_standard(calendar)
        except Exception as error:
            yield Problem(1, f"calendar time zone could not be applied: {error}", "warning")
        producer = str(calendar.get("PRODID", "")).lower()
        reading = Reading(
            zone=tz,
            owner=_owner_addresses(calendar, me),
            events=events or any(name in producer for name in EVENT_PRODUCERS),
        )
        if not reading.owner and not reading.events:
            yield Problem(
                1,
                "this calendar does not say which address is yours: unless your goals "
                "(springboard owner) name it, give --me ADDRESS so you are never your own contact",
                "warning",
                "owner not recognised",
            )
        yield from _expand(calendar, uid_lines, reading, window, budget)
    if budget.series_left_out:
        yield Problem(
            budget.first_left_out,
            f"{budget.series_left_out} recurring series from this line on not expanded: the "
            f"file's cap of {MAX_OCCURRENCES_PER_FILE:,} occurrences "
            f"({MAX_RULE_STEPS_PER_FILE:,} rule periods) was reached",
        )


def _expand(
    calendar: Any, uid_lines: dict[str, int], reading: Reading, window: Window, budget: Budget
) -> Iterator[Item]:
    tz = reading.zone
    series: dict[str, list[Any]] = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "")).strip()
        if not uid:
            start = component.get("DTSTART")
            uid = stable_key(str(component.get("SUMMARY", "")), str(start) if start else "")
        series.setdefault(uid, []).append(component)
    zones = [c for c in calendar.walk("VTIMEZONE")]
    for uid, components in series.items():
        line = uid_lines.get(uid, 1)
        recurring = any("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c for c in components)
        if not recurring:
            for component in components:
                yield from _to_item(component, uid, line, False, reading)
            continue
        try:
            refusal, steps = _unexpandable(components, window, tz)
        except Exception as error:  # a rule part icalendar read but cannot give as a number
            refusal, steps = f"has an unreadable RRULE ({error})", 0
        if refusal is None and steps > MAX_RULE_STEPS_PER_SERIES:
            refusal = (
                f"walks {steps:,} repetitions of its rule to reach the import window "
                f"(at most {MAX_RULE_STEPS_PER_SERIES:,})"
            )
        if refusal:
            yield Problem(line, f"series {uid!r} {refusal}; skipped")
            continue
        if budget.occurrences <= 0 or steps > budget.rule_steps:
            budget.series_left_out += 1
            budget.first_left_out = budget.first_left_out or line
            continue
        budget.rule_steps -= steps
        yield from _occurrences(components, zones, uid, line, reading, window, budget)


def _occurrences(
    components: list[Any],
    zones: list[Any],
    uid: str,
    line: int,
    reading: Reading,
    window: Window,
    budget: Budget,
) -> Iterator[Item]:
    """A series' occurrences in the window, taken lazily up to the caps: the series is never
    materialised beyond the first occurrence past them."""
    single = icalendar.Calendar()
    for zone in zones:
        single.add_component(zone)
    for component in components:
        single.add_component(component)
    limit = min(MAX_OCCURRENCES_PER_SERIES, budget.occurrences)
    try:
        taken: list[Any] = []
        for each in recurring_ical_events.of(single).series:
            taken += itertools.islice(each.between(window.start, window.end), limit + 1)
        taken.sort(key=lambda o: _aware(o.start, reading.zone))
        occurrences = [o.as_component(False) for o in taken[:limit]]
    except Exception as error:
        yield Problem(line, f"series {uid!r} could not be expanded: {error}")
        return
    if len(taken) > limit:
        cap = "the file's cap" if limit < MAX_OCCURRENCES_PER_SERIES else "the cap per series"
        yield Problem(
            line,
            f"series {uid!r} stopped after {limit} occurrences ({cap})",
            "warning",
            "series stopped at a cap",
        )
    budget.occurrences -= len(occurrences)
    for occurrence in occurrences:
        yield from _to_item(occurrence, uid, line, True, reading)
