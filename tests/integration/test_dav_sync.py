"""``springboard sync`` against a real CalDAV/CardDAV server (Radicale), the real broker and
ingest on PostgreSQL: the real exports are put on the server, synced, changed, deleted and
synced again; what reached the topics and ingest's store is checked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from services.ingest.dav import Kind
from services.ingest.models import IngestMeeting, IngestPerson, IngestSyncCollection
from services.ingest.store import IngestWork
from services.ingest.sync_command import sync_once
from shared import database
from shared.settings import DatabaseSettings, SpringboardSettings
from tests.conftest import embedded_system, unique
from tests.dav_server import PASSWORD, USER, Radicale
from tests.outage_helpers import eventually
from tests.real_files import real_files

pytestmark = pytest.mark.integration

OWNER_EMAIL = "maria@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    with Radicale(tmp_path_factory.mktemp("radicale")) as running:
        yield running


@pytest.fixture(scope="module")
async def system(kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path_factory) -> Any:
    async with embedded_system(kafka_bootstrap, postgres, tmp_path_factory, "sync") as running:
        yield running


def settings_for(system: Any, postgres: DatabaseSettings) -> SpringboardSettings:
    return SpringboardSettings(kafka=system.kafka, database=postgres, data_dir=system.data_dir)


def sync(system: Any, postgres: DatabaseSettings, kind: Kind, url: str, owner: str, **kw: Any):
    results = sync_once(
        kind,
        url,
        owner=owner,
        username=kw.pop("username", USER),
        secret=kw.pop("secret", PASSWORD),
        names=(),
        settings=settings_for(system, postgres),
        zone="Europe/Stockholm",
    )
    [(_, report)] = results
    return report


def ingest_engine(system: Any, postgres: DatabaseSettings) -> Any:
    """Ingest's store, which the sync keeps its state in."""
    url = settings_for(system, postgres).database_url("ingest")
    return database.make_engine(url, schema_name=postgres.schema_name)


def stored(postgres: DatabaseSettings, system: Any, table: Any, owner: str) -> list[Any]:
    engine = ingest_engine(system, postgres)
    try:
        with database.transaction(engine, IngestWork) as session:
            return list(session.exec(select(table).where(table.owner_id == owner)).all())
    finally:
        engine.dispose()


async def until(check: Any, timeout: float = 60) -> Any:
    """``eventually`` for a check that reads the store: run in a thread, so the event loop,
    which runs the services, stays free."""
    return await eventually(lambda: asyncio.to_thread(check), timeout)


def split_calendar(path: Path) -> dict[str, str]:
    """A real export as the server keeps it: one calendar object per UID, with its time
    zones (what a CalDAV client PUTs)."""
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    zones = [c for c in calendar.walk("VTIMEZONE")]
    by_uid: dict[str, list[Any]] = {}
    for event in calendar.walk("VEVENT"):
        by_uid.setdefault(str(event.get("UID")), []).append(event)
    out = {}
    for uid, events in by_uid.items():
        one = icalendar.Calendar()
        one.add("prodid", "-//springboard tests//EN")
        one.add("version", "2.0")
        for component in (*zones, *events):
            one.add_component(component)
        out[uid] = one.to_ical().decode()
    return out


def meeting(uid: str, start: str, *, with_whom: str = "anna.berg@nordbank.example") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//springboard tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\n"
        f"DURATION:PT1H\r\nSUMMARY:Lunch\r\nORGANIZER:mailto:{OWNER_EMAIL}\r\n"
        f"ATTENDEE:mailto:{OWNER_EMAIL}\r\nATTENDEE:mailto:{with_whom}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


async def test_a_calendar_syncs_whole_then_only_what_changed_and_deletions_withdraw(
    server: Radicale, system: Any, postgres: DatabaseSettings
) -> None:
    owner = unique("cal-")
    calendar = server.make_calendar(unique("work-"))
    put = 0
    for path in real_files("node-ical", ".ics"):
        for uid, text in split_calendar(path).items():
            name = f"{abs(hash(uid))}.ics"
            put += server.put(calendar, name, text, "text/calendar") in (200, 201)
    assert put >= 20  # the real exports, as objects the server accepted
    server.put(calendar, "lunch.ics", meeting("lunch-1", "20261105T110000Z"), "text/calendar")
    server.put(calendar, "coffee.ics", meeting("coffee-1", "20261106T090000Z"), "text/calendar")

    first = await asyncio.to_thread(sync, system, postgres, Kind.caldav, server.url, owner)
    assert first.first
    assert first.published > 0

    def ours() -> dict[str, IngestMeeting]:
        return {m.external_id: m for m in stored(postgres, system, IngestMeeting, owner)}

    lunch = await until(lambda: ours().get("lunch-1"))
    assert len(ours()) > 2  # the real exports' meetings too
    assert lunch.starts_at.astimezone(UTC) == datetime(2026, 11, 5, 11, tzinfo=UTC)

    again = await asyncio.to_thread(sync, system, postgres, Kind.caldav, server.url, owner)
    assert again.unchanged
    assert again.published == 0
    assert again.requests == {"sync-collection": 1}  # the sync report only: nothing fetched

    # Moved on the server, and another one deleted there.
    server.put(calendar, "lunch.ics", meeting("lunch-1", "20261112T120000Z"), "text/calendar")
    assert server.delete(calendar, "coffee.ics") in (200, 204)
    changed = await asyncio.to_thread(sync, system, postgres, Kind.caldav, server.url, owner)
    assert (changed.changed, changed.removed) == (1, 1)

    def moved_and_withdrawn() -> bool:
        rows = ours()
        return (
            rows["lunch-1"].starts_at.astimezone(UTC) == datetime(2026, 11, 12, 12, tzinfo=UTC)
            and rows["coffee-1"].cancelled
        )

    await until(moved_and_withdrawn)  # ingest applied both


async def test_a_token_the_server_no_longer_knows_resyncs_whole_and_duplicates_nothing(
    server: Radicale, system: Any, postgres: DatabaseSettings
) -> None:
    owner = unique("tok-")
    calendar = server.make_calendar(unique("home-"))
    for n in range(5):
        server.put(
            calendar, f"m{n}.ics", meeting(f"m-{n}", f"2026110{n + 1}T090000Z"), "text/calendar"
        )
    first = await asyncio.to_thread(sync, system, postgres, Kind.caldav, calendar, owner)
    assert first.published == 5
    engine = ingest_engine(system, postgres)
    with database.transaction(engine) as session:
        state = session.get(IngestSyncCollection, (owner, calendar))
        assert state is not None
        state.sync_token = "http://radicale.org/ns/sync/" + "0" * 64  # one it never issued
        session.add(state)
    engine.dispose()
    resynced = await asyncio.to_thread(sync, system, postgres, Kind.caldav, calendar, owner)
    assert resynced.resynced
    assert resynced.published == 0  # every member's ETag was the one stored
    server.put(calendar, "m9.ics", meeting("m-9", "20261120T090000Z"), "text/calendar")
    after = await asyncio.to_thread(sync, system, postgres, Kind.caldav, calendar, owner)
    assert (after.resynced, after.changed, after.published) == (False, 1, 1)  # a fresh token


def card(uid: str, name: str, email: str) -> str:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\nEND:VCARD\r\n"


def split_cards(path: Path) -> list[str]:
    """A real export's cards, one resource each, as a CardDAV client uploads them: with a
    UID added where the card has none (the server requires one)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    cards, current = [], []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if line.strip().upper() == "END:VCARD":
            card = "".join(current)
            if "\nUID:" not in card.upper() and "\nUID;" not in card.upper():
                card = card.replace("\n", f"\nUID:{path.stem}-{len(cards)}\r\n", 1)
            cards.append(card)
            current = []
    return cards


async def test_an_address_book_syncs_and_a_contact_deleted_there_is_no_longer_a_contact(
    server: Radicale, system: Any, postgres: DatabaseSettings
) -> None:
    owner = unique("card-")
    book = server.make_addressbook(unique("contacts-"))
    accepted = 0
    for path in real_files("ez-vcard", ".vcf"):
        for n, text in enumerate(split_cards(path)):
            accepted += server.put(book, f"{path.stem}-{n}.vcf", text, "text/vcard") in (200, 201)
    assert accepted >= 5
    server.put(
        book, "anna.vcf", card("anna-1", "Anna Berg", "anna.berg@nordbank.example"), "text/vcard"
    )
    first = await asyncio.to_thread(sync, system, postgres, Kind.carddav, server.url, owner)
    assert first.first
    assert first.published >= accepted

    def anna() -> IngestPerson | None:
        return next(
            (
                p
                for p in stored(postgres, system, IngestPerson, owner)
                if p.full_name == "Anna Berg"
            ),
            None,
        )

    assert (await until(anna)).is_contact
    assert server.delete(book, "anna.vcf") in (200, 204)
    removed = await asyncio.to_thread(sync, system, postgres, Kind.carddav, server.url, owner)
    assert (removed.removed, removed.published) == (1, 1)
    await until(lambda: (person := anna()) is not None and not person.is_contact)


def test_a_wrong_password_gives_one_line_and_exit_1(
    server: Radicale, monkeypatch, tmp_path: Path
) -> None:
    from services.cli import app

    monkeypatch.setenv("SPRINGBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPRINGBOARD_DAV_PASSWORD", "not-the-password")
    result = CliRunner().invoke(
        app, ["sync", "caldav", server.url, "--owner", "maria", "--username", USER]
    )
    assert result.exit_code == 1
    assert "401" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not-the-password" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_without_sync_collection_the_collection_tag_and_etags_find_the_changes(
    server: Radicale,
) -> None:
    """As a server without RFC 6578 is synced: the collection seen with no sync token."""
    from dataclasses import replace

    from services.ingest.dav import DavClient
    from services.ingest.models import TABLES
    from services.ingest.sync import SyncState, plan_collection

    calendar = server.make_calendar(unique("plain-"))
    for n in range(3):
        server.put(
            calendar, f"p{n}.ics", meeting(f"p-{n}", f"2026110{n + 1}T090000Z"), "text/calendar"
        )
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, TABLES)
    state = SyncState(engine)

    def plan() -> Any:
        with DavClient(calendar, username=USER, password=PASSWORD) as client:
            [found] = client.collections(Kind.caldav)
            stored, items = state.load("o", found.url)
            made = plan_collection(
                client, Kind.caldav, replace(found, sync_token=None), "o", stored, items
            )
            state.save("o", Kind.caldav, found.url, made)
            return made

    first = plan()
    assert (first.report.changed, first.report.requests.get("sync-collection")) == (3, None)
    unchanged = plan()
    assert unchanged.report.unchanged
    assert unchanged.report.requests == {}  # the collection tag said so: not even a listing
    server.put(calendar, "p1.ics", meeting("p-1", "20261115T090000Z"), "text/calendar")
    assert server.delete(calendar, "p2.ics") in (200, 204)
    changed = plan()
    assert (changed.report.changed, changed.report.removed) == (1, 1)
    assert changed.report.requests == {"PROPFIND": 1, "multiget": 1}
    kinds = sorted((e.data.external_id, e.data.cancelled) for _, e in changed.outgoing)
    assert kinds == [("p-1", False), ("p-2", True)]
