"""Calendars and address books kept in step over CalDAV and CardDAV.

A sync asks each collection what changed since the token stored for it (all of it, the
first time), fetches the changed members and publishes them as the input envelopes the
importers publish, so ingest stays the one place that resolves identities:

- a member changed or added: its meetings or contacts, with message ids made of the
  member's ETag (a sync that is read again publishes the very same messages);
- an occurrence or contact that a member no longer holds, and every one of a member the
  server removed: withdrawn (a meeting as cancelled, a contact as ``removed``; their
  history stays);
- a member whose ETag is the one stored: nothing, also when a refused token made the
  server list the whole collection again.

The state (sync token, collection tag, each member's ETag and what it was published as)
is in ingest's store, written only once the broker confirmed what the sync published.
A calendar synced here and imported from a file are one source (``import:ics``), as are
an address book and its vCard export (``import:vcard``): nothing is doubled.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from services.ingest.dav import Changes, Collection, DavClient, Kind, TokenInvalid
from services.ingest.models import IngestOwner, IngestSyncCollection, IngestSyncItem
from services.ingest.parsers import ics, vcard
from services.ingest.parsers.common import Parsed, Problem
from shared import database, topics
from shared.messages import ContactUpserted, Envelope, MeetingRecorded, wrap

SOURCE = {Kind.caldav: "import:ics", Kind.carddav: "import:vcard"}
NAMESPACE = uuid.UUID("6f1d3c52-5b0e-4b8e-9a55-1f3f0c6e2d71")

Outgoing = list[tuple[str, Envelope[Any]]]


@dataclass
class CollectionReport:
    """What one collection's sync did, for the command's summary."""

    name: str
    first: bool = False
    resynced: bool = False
    unchanged: bool = False
    changed: int = 0
    removed: int = 0
    published: int = 0
    problems: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    """What the sync asked the server for this collection (discovery not included)."""


@dataclass
class Plan:
    """A collection's sync before it is published: what goes out, and the state to keep
    once it is out."""

    report: CollectionReport
    outgoing: Outgoing = field(default_factory=list)
    token: str | None = None
    ctag: str | None = None
    items: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


class SyncState:
    """Sync tokens, collection tags and members' ETags per owner, in ingest's store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(
        self, owner_id: str, url: str
    ) -> tuple[IngestSyncCollection | None, dict[str, IngestSyncItem]]:
        with database.transaction(self.engine) as session:
            state = session.get(IngestSyncCollection, (owner_id, url))
            items = session.exec(
                select(IngestSyncItem).where(
                    IngestSyncItem.owner_id == owner_id, IngestSyncItem.collection_url == url
                )
            ).all()
            return state, {item.href: item for item in items}

    def owner_emails(self, owner_id: str) -> list[str]:
        with database.transaction(self.engine) as session:
            owner = session.get(IngestOwner, owner_id)
            return list(owner.emails) if owner else []

    def save(self, owner_id: str, kind: Kind, url: str, plan: Plan) -> None:
        with database.transaction(self.engine) as session:
            state = session.get(IngestSyncCollection, (owner_id, url)) or IngestSyncCollection(
                owner_id=owner_id, url=url, kind=kind.value, synced_at=datetime.now(UTC)
            )
            state.sync_token, state.ctag = plan.token, plan.ctag
            state.synced_at = datetime.now(UTC)
            session.add(state)
            if plan.removed:
                session.exec(
                    delete(IngestSyncItem).where(
                        col(IngestSyncItem.owner_id) == owner_id,
                        col(IngestSyncItem.collection_url) == url,
                        col(IngestSyncItem.href).in_(plan.removed),
                    )
                )
            session.upsert_later(
                IngestSyncItem,
                [
                    {
                        "owner_id": owner_id,
                        "collection_url": url,
                        "href": href,
                        "etag": etag,
                        "published": published,
                    }
                    for href, (etag, published) in plan.items.items()
                ],
                keys=["owner_id", "collection_url", "href"],
            )


def changes_since(
    client: DavClient,
    collection: Collection,
    state: IngestSyncCollection | None,
    items: dict[str, IngestSyncItem],
    report: CollectionReport,
) -> Changes:
    """What changed on the server since the stored state: by ``sync-collection`` where the
    server offers it, else by its collection tag and the members' ETags."""
    if collection.sync_token is not None:
        try:
            return client.sync_collection(collection, state.sync_token if state else None)
        except TokenInvalid:
            report.resynced = True
            whole = client.sync_collection(collection, None)
            whole.removed = [href for href in items if href not in whole.changed]
            return whole
    if state is not None and collection.ctag is not None and state.ctag == collection.ctag:
        return Changes()
    etags = client.etags(collection)
    return Changes(
        changed={h: e for h, e in etags.items() if h not in items or items[h].etag != e},
        removed=[href for href in items if href not in etags],
    )


def plan_collection(
    client: DavClient,
    kind: Kind,
    collection: Collection,
    owner_id: str,
    state: IngestSyncCollection | None,
    items: dict[str, IngestSyncItem],
    *,
    me: Sequence[str] = (),
    zone: str = "Europe/Stockholm",
) -> Plan:
    report = CollectionReport(name=collection.name, first=state is None)
    requests_before = client.requests.copy()
    changes = changes_since(client, collection, state, items, report)
    plan = Plan(report=report, token=changes.token, ctag=collection.ctag)
    fresh = {h: e for h, e in changes.changed.items() if h not in items or items[h].etag != e}
    removed = [h for h in changes.removed if h in items]
    report.unchanged = not fresh and not removed
    if not report.unchanged:
        source = SOURCE[kind]
        for href in removed:  # withdrawals first: a contact's new card may name the same person
            plan.outgoing += _withdrawn(kind, owner_id, source, href, items[href].published)
        plan.removed = removed
        report.removed = len(removed)
        _add_changed(client, kind, collection, owner_id, plan, fresh, items, me, zone)
    report.requests = dict(client.requests - requests_before)
    return plan


def _add_changed(
    client: DavClient,
    kind: Kind,
    collection: Collection,
    owner_id: str,
    plan: Plan,
    fresh: dict[str, str],
    items: dict[str, IngestSyncItem],
    me: Sequence[str],
    zone: str,
) -> None:
    """Fetch the changed members; what they hold goes out, and what they held no longer
    is withdrawn."""
    report, source = plan.report, SOURCE[kind]
    fetched = client.fetch(collection, kind, list(fresh))
    now = datetime.now(UTC)
    found: dict[str, list[str]] = {}  # a problem -> the members it was found in
    for href in fresh:
        if href not in fetched:
            report.problems.append(f"{_name(href)}: the server did not send it")
            continue
        etag, text = fetched[href]
        etag = etag or fresh[href]
        made, published, problems = _member(kind, owner_id, source, etag, text, now, me, zone)
        for problem in problems:
            found.setdefault(problem, []).append(_name(href))
        before = items[href].published if href in items else {}
        gone = {eid: info for eid, info in before.items() if eid not in published}
        plan.outgoing = _withdrawn(kind, owner_id, source, href, gone) + plan.outgoing + made
        plan.items[href] = (etag, published)
        report.changed += 1
    report.problems += [  # one line per problem: a calendar-wide one is found in every member
        f"{names[0]}: {p}" if len(names) == 1 else f"{p} ({len(names)} members)"
        for p, names in found.items()
    ]


def _member(
    kind: Kind,
    owner_id: str,
    source: str,
    etag: str,
    text: str,
    now: datetime,
    me: Sequence[str],
    zone: str,
) -> tuple[Outgoing, dict[str, str], list[str]]:
    """A member's messages, what each external id takes to withdraw, and its problems."""
    data = text.encode().splitlines(keepends=True)  # the parsers read line by line
    parsed = (
        ics.parse(data, now=now, zone=zone, me=me) if kind is Kind.caldav else vcard.parse(data)
    )
    out: Outgoing = []
    published: dict[str, str] = {}
    problems: list[str] = []
    for item in parsed:
        if isinstance(item, Problem):
            if item.severity != "skipped":
                problems.append(item.reason)
            continue
        assert isinstance(item, Parsed)
        message = item.data
        if isinstance(message, MeetingRecorded):
            published[message.external_id] = message.starts_at.isoformat()
        elif isinstance(message, ContactUpserted):
            published[message.external_id] = message.full_name
        else:
            continue  # a calendar's events to attend come from event feeds, not here
        key = message.external_id
        out.append(
            (
                item.topic,
                wrap(
                    message,
                    owner_id=owner_id,
                    source=source,
                    message_id=_id(owner_id, source, key, etag),
                ),
            )
        )
    return out, published, problems


def _withdrawn(
    kind: Kind, owner_id: str, source: str, href: str, published: dict[str, str]
) -> Outgoing:
    """Messages that withdraw what ``published`` names: cancelled meetings, removed contacts."""
    out: Outgoing = []
    for external_id, info in published.items():
        message_id = _id(owner_id, source, external_id, f"withdrawn:{href}")
        if kind is Kind.caldav:
            meeting = MeetingRecorded(
                external_id=external_id, starts_at=datetime.fromisoformat(info), cancelled=True
            )
            out.append(
                (
                    topics.MEETINGS,
                    wrap(meeting, owner_id=owner_id, source=source, message_id=message_id),
                )
            )
        else:
            contact = ContactUpserted(external_id=external_id, full_name=info, removed=True)
            out.append(
                (
                    topics.CONTACTS,
                    wrap(contact, owner_id=owner_id, source=source, message_id=message_id),
                )
            )
    return out


def _id(owner_id: str, source: str, external_id: str, version: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join((owner_id, source, external_id, version))))


def _name(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1]


def chosen(collections: list[Collection], names: Sequence[str]) -> list[Collection]:
    """The collections named (by display name or the last part of their path), or all."""
    if not names:
        return collections
    wanted = {n.casefold() for n in names}
    return [
        c for c in collections if c.name.casefold() in wanted or _name(c.url).casefold() in wanted
    ]
