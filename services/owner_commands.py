"""What an owner says, as commands: who they are and what they want (goals), how to hear
from Springboard (preferences), favours, answers to suggestions, erasure; and what they are
told (their suggestions).

Each command builds the documented input message, so its arguments are checked by the
same schema ingest checks, before anything is sent; then sends it through the one producer
path (``shared.client.publish``) and prints what it sent. A bad argument is one line and
exit 2, and nothing is sent; an unreachable broker or store is one line naming the fix.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from services.terminal import console, render_table
from shared import topics
from shared.client import BrokerUnavailable, publish
from shared.keys import SealError, seal
from shared.messages import (
    EraseOwner,
    ErasePerson,
    FavourRecorded,
    FeedbackGiven,
    GoalsSet,
    Message,
    PreferencesSet,
    wrap,
)
from shared.messages.envelope import OWNER_ID_PATTERN, validation_reason
from shared.settings import SpringboardSettings

OK, FAILED, BAD_ARGUMENTS = 0, 1, 2
SOURCE = "cli"

TOPIC_OF: dict[type[Message], str] = {
    GoalsSet: topics.GOALS,
    PreferencesSet: topics.PREFERENCES,
    FavourRecorded: topics.FAVOURS,
    FeedbackGiven: topics.FEEDBACK,
    ErasePerson: topics.ERASURE,
    EraseOwner: topics.ERASURE,
}

FEEDBACK_ACTIONS = {
    "accept": "accepted",
    "dismiss": "dismissed",
    "snooze": "snoozed",
    "done": "done",
}


Outgoing = tuple[str, Message, str | None]
"""What a command sends: the owner, the message, and its message id (None: a new one)."""


class BadArgument(ValueError):
    """An argument the command refuses, with the one line that says why."""


def owner_id(value: str) -> str:
    if not re.fullmatch(OWNER_ID_PATTERN, value):
        raise BadArgument(f"invalid owner id {value!r} (letters, digits, . _ - : @)")
    return value


def _send(owner: str, data: Message, *, as_json: bool, key: str | None = None) -> int:
    """Publish one input message for ``owner`` and say what was sent."""
    envelope = wrap(
        data,
        owner_id=owner,
        source=SOURCE,
        message_id=key,
    )
    settings = SpringboardSettings()
    asyncio.run(publish(settings.kafka, [(TOPIC_OF[type(data)], envelope)]))
    if as_json:
        print(envelope.model_dump_json())
    else:
        fields = data.model_dump(mode="json", exclude_defaults=True, exclude={"request"})
        shown = ", ".join(f"{k}={v}" for k, v in fields.items() if k != "webhook_secret")
        print(f"Sent {data.TYPE} for {owner}: {shown or '(no fields)'}")
    return OK


def run(build: Callable[[], Outgoing], *, as_json: bool) -> int:
    """Build the message (its arguments checked), send it; every failure one line."""
    try:
        owner, data, key = build()
        return _send(owner, data, as_json=as_json, key=key)
    except BadArgument as error:
        console(stderr=True).print(str(error), markup=False)
        return BAD_ARGUMENTS
    except ValidationError as error:
        console(stderr=True).print(validation_reason(error, limit=1), markup=False)
        return BAD_ARGUMENTS
    except (BrokerUnavailable, SealError) as error:
        console(stderr=True).print(str(error), markup=False)
        return FAILED


def goals(
    owner: str,
    *,
    name: str,
    emails: list[str],
    city: str | None,
    country: str,
    industries: list[str],
    roles: list[str],
    cities: list[str],
    interests: list[str],
) -> Outgoing:
    data = GoalsSet(
        full_name=name,
        emails=emails,
        home_city=city,
        country=country.upper(),
        target_industries=industries,
        target_functions=roles,
        target_cities=cities,
        interests=interests,
    )
    return owner_id(owner), data, None


def _hours(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value.strip())
    if not match or not all(0 <= int(h) <= 23 for h in match.groups()):
        raise BadArgument(f"--quiet-hours {value!r}: give two hours 0-23, e.g. 20-07")
    return int(match.group(1)), int(match.group(2))


def preferences(
    owner: str,
    *,
    email: str | None,
    webhook_url: str | None,
    webhook_secret: str | None,
    cadence: str,
    digest_hour: int,
    quiet_hours: str | None,
    timezone: str,
    budget: int | None,
) -> Outgoing:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadArgument(f"unknown time zone {timezone!r} (e.g. Europe/Stockholm)") from None
    if bool(webhook_url) != bool(webhook_secret):
        raise BadArgument("--webhook-url and --webhook-secret go together")
    if webhook_secret and len(webhook_secret) < 16:
        raise BadArgument("--webhook-secret needs at least 16 characters")
    start, end = _hours(quiet_hours) if quiet_hours else (None, None)
    data = PreferencesSet(
        email=email,
        webhook_url=webhook_url,
        # Sealed for the notifier: the secret itself never travels on Kafka.
        webhook_secret=seal(SpringboardSettings(), webhook_secret) if webhook_secret else None,
        cadence=cadence,
        digest_hour=digest_hour,
        quiet_hours_start=start,
        quiet_hours_end=end,
        timezone=timezone,
        weekly_budget=budget,
    )
    return owner_id(owner), data, None


def favour(
    owner: str,
    *,
    person: str,
    given: bool,
    received: bool,
    kind: str,
    on: str | None,
    note: str | None,
) -> Outgoing:
    if given == received:
        raise BadArgument("say which way the favour went: --given or --received")
    try:
        day = date.fromisoformat(on) if on else datetime.now(UTC).date()
    except ValueError:
        raise BadArgument(f"--on {on!r}: give a date such as 2026-11-30") from None
    direction = "given" if given else "received"
    # The same favour said twice is one favour: its id comes from what it says.
    external = hashlib.sha256(
        "|".join((person.lower(), direction, kind, day.isoformat())).encode()
    ).hexdigest()[:24]
    data = FavourRecorded(
        external_id=f"cli:{external}",
        person_email=person,
        direction=direction,
        kind=kind,
        occurred_at=datetime.combine(day, time(12), tzinfo=UTC),
        note=note,
    )
    return owner_id(owner), data, None


def feedback(owner: str, *, suggestion_id: str, action: str) -> Outgoing:
    if action not in FEEDBACK_ACTIONS:
        raise BadArgument(f"unknown answer {action!r}: one of {', '.join(FEEDBACK_ACTIONS)}")
    data = FeedbackGiven(suggestion_id=suggestion_id, action=FEEDBACK_ACTIONS[action])
    return owner_id(owner), data, None


def _person_to_erase(person: str) -> ErasePerson:
    """Whoever ``person`` names: an address, a phone number, a profile URL, else a name."""
    person = person.strip()
    if "@" in person:
        return ErasePerson(email=person)
    if person.startswith(("http://", "https://")):
        return ErasePerson(profile_url=person)
    if re.fullmatch(r"[+\d][\d\s().-]{5,}", person):
        return ErasePerson(phone=person)
    return ErasePerson(name=person)


def erase(owner: str, *, person: str | None) -> Outgoing:
    data: Message = _person_to_erase(person) if person else EraseOwner()
    return owner_id(owner), data, None


def store_unreadable(service: str, error: BaseException) -> str:
    """One line for a store that cannot be read: the database down, or another one."""
    first = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    return f"cannot read the {service}'s store: {first} (is the database up?)"


def no_store(settings: SpringboardSettings, service: str) -> str | None:
    """Why a command that reads ``service``'s store finds none, in one line (None: found)."""
    url = settings.database_url(service)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return (
            f"no Springboard data in {settings.data_dir.resolve()}: start it with "
            "`springboard up` there (or set SPRINGBOARD_DATA_DIR)"
        )
    return None


def suggestions(owner: str, *, data_dir: Path | None, as_json: bool) -> int:
    """The suggestions chosen for the owner this week, from the notifier's store (it keeps
    them across restarts, where the broker does not)."""
    from services.notifier import store
    from services.notifier.models import TABLES
    from services.notifier.settings import NotifierSettings
    from shared import database

    try:
        owner_id(owner)
    except BadArgument as error:
        console(stderr=True).print(str(error), markup=False)
        return BAD_ARGUMENTS
    settings = NotifierSettings()
    if data_dir is not None:
        settings.data_dir = data_dir
    missing = no_store(settings, "notifier")
    if missing:
        console(stderr=True).print(missing, markup=False)
        return FAILED
    try:
        with (
            database.store_of(settings, "notifier", TABLES) as engine,
            database.transaction(engine) as session,
        ):
            rows = store.chosen_since(session, owner_id=owner, since=store.week_ago())
    except SQLAlchemyError as error:  # the database is down or unreadable: one line
        console(stderr=True).print(store_unreadable("notifier", error), markup=False)
        return FAILED
    found = sorted(
        ({"owner_id": r.owner_id, **r.payload} for r in rows if r.published_at),
        key=lambda s: (s["kind"], s["rank"]),
    )
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
    elif found:
        render_table(found, Console())
    else:
        print(f"No suggestions for {owner} this week yet.")
    return OK
