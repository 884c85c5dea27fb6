"""Ingest's persistence: its unit of work, and keyword-only functions over it; writes are
upserts.

A calendar names the same people in meeting after meeting, and every input of a batch
asks for its owner: each is read once per batch and kept in the unit of work
(``IngestWork``), in typed fields that live and die with the transaction. A merge, an
undo or an erasure moves keys and people, and ``forget_looked_up`` makes the rest of the
batch read them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import SQLModel, col, delete, or_, select

from services.ingest import normalise
from services.ingest.identity import Key
from services.ingest.models import (
    TABLES,
    IngestAttendance,
    IngestEvent,
    IngestFavour,
    IngestMeeting,
    IngestMerge,
    IngestOwner,
    IngestPerson,
    IngestPersonKey,
)
from shared.messages.network import PersonChanged
from shared.unit_of_work import UnitOfWork, upsert

T = TypeVar("T", bound=SQLModel)


class IngestWork(UnitOfWork):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners: dict[str, IngestOwner | None] = {}
        """Owners read in this transaction (None: no such owner yet)."""
        self.own_emails: dict[str, frozenset[str]] = {}
        """Each owner's own addresses, normalised (asked for every person resolved)."""
        self.resolved_keys: dict[tuple[str, Key], str | None] = {}
        """(owner, key) -> the person the key points at, or None for a key no one has."""
        self.described: dict[str, PersonChanged] = {}
        """The ``PersonChanged`` built for each person, dropped when they change."""
        self.resolved_addresses: dict[tuple[str, str, Any], tuple[IngestPerson, PersonChanged]] = {}
        """(owner, address, facts) -> the person they resolved to and their ``PersonChanged``
        then: the same attendee of meeting after meeting is resolved once while unchanged."""
        self.people_by_company: dict[tuple[str, str], list[IngestPerson]] = {}
        """People by (owner, company), kept in step with the people the batch creates."""
        self.pinned: dict[str, IngestPerson] = {}
        """Strong references for the transaction: SQLAlchemy's identity map is weak, so
        without them the same person is read again for every input naming them."""
        self.merges: list[str] = []
        """How each merge of this batch was found (``keys`` or ``name``), for the metrics."""

    def forget_looked_up(self) -> None:
        """Keys or people moved (a merge, an undo, an erasure): look them up again."""
        for cache in (
            self.resolved_keys,
            self.people_by_company,
            self.pinned,
            self.own_emails,
            self.described,
            self.resolved_addresses,
        ):
            cache.clear()


def person_changed(person: IngestPerson) -> PersonChanged:
    return PersonChanged(
        person_id=person.person_id,
        full_name=person.full_name,
        company=person.company,
        title=person.title,
        function=person.function,
        seniority=person.seniority,
        industry=person.industry,
        city=person.city,
        is_contact=person.is_contact,
        is_customer=person.is_customer,
        is_self=person.is_self,
        introduced_by=person.introduced_by,
    )


def describe(session: IngestWork, person: IngestPerson) -> PersonChanged:
    """``person_changed``, built once per person until they change."""
    memo = session.described
    change = memo.get(person.person_id)
    if change is None:
        change = memo[person.person_id] = person_changed(person)
    return change


# The batch look-ups, built once: building a statement's IN clauses cost more than
# compiling it (SQLAlchemy caches that), and a batch of a few inputs runs all four.
_OWNERS = select(IngestOwner).where(
    col(IngestOwner.owner_id).in_(bindparam("owner_ids", expanding=True))
)
_KEYS = select(
    IngestPersonKey.owner_id, IngestPersonKey.kind, IngestPersonKey.value, IngestPersonKey.person_id
).where(
    col(IngestPersonKey.owner_id).in_(bindparam("owner_ids", expanding=True)),
    col(IngestPersonKey.value).in_(bindparam("values", expanding=True)),
)
_PEOPLE = select(IngestPerson).where(
    col(IngestPerson.person_id).in_(bindparam("person_ids", expanding=True))
)
_AT_COMPANIES = select(IngestPerson).where(
    col(IngestPerson.owner_id).in_(bindparam("owner_ids", expanding=True)),
    col(IngestPerson.company).in_(bindparam("companies", expanding=True)),
)


def get_owner(session: IngestWork, *, owner_id: str) -> IngestOwner | None:
    owners = session.owners
    if owner_id not in owners:
        look_up_owners(session, [owner_id])
    return owners[owner_id]


def own_emails(session: IngestWork, *, owner_id: str) -> frozenset[str]:
    """The owner's own addresses, normalised (asked for every person resolved)."""
    cache = session.own_emails
    if owner_id not in cache:
        owner = get_owner(session, owner_id=owner_id)
        cache[owner_id] = (
            frozenset(normalise.email(e) for e in owner.emails) if owner else frozenset()
        )
    return cache[owner_id]


def look_up_owners(session: IngestWork, owner_ids: Sequence[str]) -> None:
    """Read many owners at once (a whole batch's)."""
    owners = session.owners
    wanted = {o for o in owner_ids if o not in owners}
    if not wanted:
        return
    for owner_id in wanted:
        owners[owner_id] = None
    for owner in session.exec(_OWNERS, params={"owner_ids": list(wanted)}):
        owners[owner.owner_id] = owner


def save_owner(
    session: IngestWork, *, owner_id: str, full_name: str, emails: Sequence[str], country: str
) -> None:
    upsert(
        session,
        IngestOwner,
        [
            {
                "owner_id": owner_id,
                "full_name": full_name,
                "emails": list(emails),
                "country": country,
            }
        ],
        keys=["owner_id"],
    )
    session.own_emails.pop(owner_id, None)
    session.resolved_addresses.clear()  # who is the owner may have changed
    stale = session.owners.pop(owner_id, None)
    if stale is not None:
        session.expire(stale)  # the upsert went around the ORM


def find_person_ids(
    session: IngestWork, *, owner_id: str, keys: Sequence[Key]
) -> tuple[list[str], set[Key]]:
    """Every person the keys point at, strongest key first, and the keys already known."""
    cache = session.resolved_keys
    if all((owner_id, k) in cache for k in keys):
        found = {k: p for k in keys if (p := cache[(owner_id, k)]) is not None}
    else:
        found = _claimed(session, owner_id, keys)
    ids = list(dict.fromkeys(found[k] for k in keys if k in found))
    return ids, set(found)


def _claimed(session: IngestWork, owner_id: str, keys: Sequence[Key]) -> dict[Key, str]:
    """The people the keys point at, from the database."""
    if not keys:
        return {}
    found = _claimed_by_owner(session, [(owner_id, k) for k in keys])
    return {key: person_id for (_, key), person_id in found.items()}


def _claimed_by_owner(
    session: IngestWork, keys: Sequence[tuple[str, Key]]
) -> dict[tuple[str, Key], str]:
    """The people (owner, key) pairs point at, in one query whatever the owners."""
    session.write_pending()  # keys queued by ``add_keys`` first
    wanted = set(keys)
    # Plain rows, not ORM objects: keys are only read here, and loading thousands of
    # instances into the identity map cost more than the query.
    rows = session.exec(
        _KEYS,
        params={
            "owner_ids": list({owner for owner, _ in wanted}),
            "values": list({value for _, (_, value) in wanted}),
        },
    ).all()
    found = {(owner, (kind, value)): person_id for owner, kind, value, person_id in rows}
    return {pair: person_id for pair, person_id in found.items() if pair in wanted}


def look_up_keys(session: IngestWork, keys: Sequence[tuple[str, Key]]) -> None:
    """Look up many (owner, key) pairs at once (a whole batch's), and read the people they
    point at, so that resolving each input needs no query of its own."""
    cache = session.resolved_keys
    wanted = [pair for pair in dict.fromkeys(keys) if pair not in cache]
    if not wanted:
        return
    found = _claimed_by_owner(session, wanted)
    for pair in wanted:
        cache[pair] = found.get(pair)
    pinned = session.pinned
    unread = {p for p in found.values() if p not in pinned}
    if unread:
        for person in session.exec(_PEOPLE, params={"person_ids": list(unread)}):
            _pin(session, person)


def look_up_companies(session: IngestWork, companies: Sequence[tuple[str, str]]) -> None:
    """Read the people at many (owner, company) pairs at once (a whole batch's)."""
    cache = session.people_by_company
    wanted = sorted({pair for pair in companies if pair not in cache})
    if not wanted:
        return
    for pair in wanted:
        cache[pair] = []
    for person in session.exec(
        _AT_COMPANIES,
        params={
            "owner_ids": list({owner for owner, _ in wanted}),
            "companies": list({company for _, company in wanted}),
        },
    ):
        pair = (person.owner_id, person.company or "")
        if pair in cache:  # the query's cross product also finds other owners' companies
            cache[pair].append(_pin(session, person))


def people_at_company(session: IngestWork, *, owner_id: str, company: str) -> list[IngestPerson]:
    look_up_companies(session, [(owner_id, company)])
    return list(session.people_by_company[(owner_id, company)])


def company_changed(session: IngestWork, person: IngestPerson, before: str | None) -> None:
    """``person`` is new or moved from ``before``: keep the people by company in step."""
    cache = session.people_by_company
    if before is not None and (person.owner_id, before) in cache:
        old = cache[(person.owner_id, before)]
        old[:] = [p for p in old if p is not person]
    if person.company is not None and (person.owner_id, person.company) in cache:
        new = cache[(person.owner_id, person.company)]
        if all(p is not person for p in new):
            new.append(person)


def _of_person(session: IngestWork, table: type[T], *, owner_id: str, person_id: str) -> list[T]:
    session.write_pending()
    columns: Any = table
    return list(
        session.exec(
            select(table).where(
                col(columns.owner_id) == owner_id, col(columns.person_id) == person_id
            )
        ).all()
    )


def keys_of(session: IngestWork, *, owner_id: str, person_id: str) -> list[IngestPersonKey]:
    return _of_person(session, IngestPersonKey, owner_id=owner_id, person_id=person_id)


def attendance_of(session: IngestWork, *, owner_id: str, person_id: str) -> list[IngestAttendance]:
    return _of_person(session, IngestAttendance, owner_id=owner_id, person_id=person_id)


def favours_of(session: IngestWork, *, owner_id: str, person_id: str) -> list[IngestFavour]:
    return _of_person(session, IngestFavour, owner_id=owner_id, person_id=person_id)


def meetings_with(session: IngestWork, *, owner_id: str, person_id: str) -> list[IngestMeeting]:
    session.write_pending()
    rows = session.exec(select(IngestMeeting).where(IngestMeeting.owner_id == owner_id)).all()
    return [m for m in rows if person_id in m.person_ids or m.organizer_id == person_id]


def add_keys(session: IngestWork, *, owner_id: str, person_id: str, keys: Sequence[Key]) -> None:
    """Point unclaimed keys at ``person_id``; a key that belongs to someone else stays theirs.
    Written with the batch: until then the key look-up (``key_cache``) answers for them."""
    if not keys:
        return
    session.upsert_later(
        IngestPersonKey,
        [{"owner_id": owner_id, "kind": k, "value": v, "person_id": person_id} for k, v in keys],
        keys=["owner_id", "kind", "value"],
        update=[],
    )


def _pin(session: IngestWork, person: IngestPerson) -> IngestPerson:
    """Hold a strong reference for the transaction: SQLAlchemy's identity map is weak, so
    without it the same person is read from the database again for every input naming them."""
    session.pinned[person.person_id] = person
    return person


def get_person(session: IngestWork, *, person_id: str) -> IngestPerson | None:
    person: IngestPerson | None = session.pinned.get(person_id)
    if person is not None:  # cheaper than the identity map
        return person
    person = session.get(IngestPerson, person_id)
    return _pin(session, person) if person is not None else None


def save_person(session: IngestWork, *, person: IngestPerson) -> None:
    session.add(_pin(session, person))


def person_ids_with_keys(session: IngestWork, *, owner_id: str, keys: Sequence[Key]) -> list[str]:
    """Everyone any of ``keys`` (e-mail, phone, profile, source id, name) points at."""
    session.write_pending()  # keys queued by ``add_keys`` first
    found: list[str] = []
    for kind, value in keys:
        found += session.exec(
            select(IngestPersonKey.person_id).where(
                IngestPersonKey.owner_id == owner_id,
                IngestPersonKey.kind == kind,
                IngestPersonKey.value == value,
            )
        ).all()
    return list(dict.fromkeys(found))


def save_meeting(
    session: IngestWork,
    *,
    interaction_id: str,
    owner_id: str,
    external_id: str,
    title: str,
    starts_at: datetime,
    organizer_id: str | None,
    person_ids: list[str],
    cancelled: bool,
) -> None:
    """Written as a plain row: building an ORM object per meeting only to dump it costs more
    than the insert."""
    row = {
        "interaction_id": interaction_id,
        "owner_id": owner_id,
        "external_id": external_id,
        "title": title,
        "starts_at": starts_at,
        "organizer_id": organizer_id,
        "person_ids": person_ids,
        "cancelled": cancelled,
    }
    session.upsert_later(IngestMeeting, [row], keys=["interaction_id"])


def save_event(session: IngestWork, *, event: IngestEvent) -> None:
    session.upsert_later(IngestEvent, [event.model_dump()], keys=["event_id"])


def save_attendance(
    session: IngestWork, *, owner_id: str, event_id: str, person_id: str, status: str
) -> None:
    session.upsert_later(
        IngestAttendance,
        [{"event_id": event_id, "person_id": person_id, "owner_id": owner_id, "status": status}],
        keys=["event_id", "person_id"],
    )


def save_favour(
    session: IngestWork,
    *,
    favour_id: str,
    owner_id: str,
    person_id: str,
    direction: str,
    kind: str,
    occurred_at: datetime,
) -> None:
    session.upsert_later(
        IngestFavour,
        [
            {
                "favour_id": favour_id,
                "owner_id": owner_id,
                "person_id": person_id,
                "direction": direction,
                "kind": kind,
                "occurred_at": occurred_at,
            }
        ],
        keys=["favour_id"],
    )


def erase_person(session: IngestWork, *, owner_id: str, person_id: str) -> None:
    session.write_pending()
    session.forget_looked_up()
    session.exec(
        delete(IngestPersonKey).where(
            col(IngestPersonKey.owner_id) == owner_id, col(IngestPersonKey.person_id) == person_id
        )
    )
    session.exec(
        delete(IngestAttendance).where(
            col(IngestAttendance.owner_id) == owner_id, col(IngestAttendance.person_id) == person_id
        )
    )
    session.exec(
        delete(IngestFavour).where(
            col(IngestFavour.owner_id) == owner_id, col(IngestFavour.person_id) == person_id
        )
    )
    meetings = session.exec(select(IngestMeeting).where(IngestMeeting.owner_id == owner_id)).all()
    for meeting in meetings:
        if person_id in meeting.person_ids:
            meeting.person_ids = [p for p in meeting.person_ids if p != person_id]
            if meeting.organizer_id == person_id:
                meeting.organizer_id = None
            session.add(meeting)
    # The merge history names them too (the merged record's names, addresses, phones):
    # gone with it, an undo that would bring them back has nothing to undo.
    session.exec(
        delete(IngestMerge).where(
            col(IngestMerge.owner_id) == owner_id,
            or_(col(IngestMerge.kept_id) == person_id, col(IngestMerge.merged_id) == person_id),
        )
    )
    person = session.get(IngestPerson, person_id)
    if person is not None and person.owner_id == owner_id:
        session.delete(person)


def erase_owner(session: IngestWork, *, owner_id: str) -> None:
    session.write_pending()
    session.forget_looked_up()
    session.owners.pop(owner_id, None)
    for table in TABLES:
        column: Any = getattr(table, "owner_id", None)
        if column is not None:  # the webhook replay log names no owner
            session.exec(delete(table).where(column == owner_id))


def get_merge(session: IngestWork, *, owner_id: str, merge_id: str) -> IngestMerge | None:
    merge = session.get(IngestMerge, merge_id)
    return merge if merge is not None and merge.owner_id == owner_id else None


def merges(session: IngestWork, *, owner_id: str) -> list[IngestMerge]:
    return list(
        session.exec(
            select(IngestMerge)
            .where(IngestMerge.owner_id == owner_id)
            .order_by(col(IngestMerge.merged_at))
        ).all()
    )
