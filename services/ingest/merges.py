"""Merging two records of one person, recorded with its reason, and undoing it.

A merge happens when one input's identity keys point at two people (the CRM record with
Anna's e-mail, the vCard with her phone), or when a new record matches an existing
person by name and company. Everything that pointed at the merged person moves to the
kept one, and the merge row keeps what is needed to move it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from services.ingest import normalise, store
from services.ingest.identity import stable_id
from services.ingest.models import (
    IngestFavour,
    IngestMeeting,
    IngestMerge,
    IngestPerson,
    IngestPersonKey,
)
from services.ingest.store import IngestWork
from shared.clock import as_utc
from shared.messages.network import (
    AttendanceChanged,
    FavourChanged,
    InteractionRecorded,
    PersonErased,
)

_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=65536)  # a new contact is compared with everyone at their company
def _words(name: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(normalise.folded(name)))


def names_agree(one: str, other: str) -> bool:
    """Whether two names at one company are the same person's: the same words up to accents,
    case, punctuation and order, an initial standing for a word it begins (``A.`` for
    ``Anna``), and at most one middle name that only one of them gives. At least two words
    must agree in full. A letter or two apart is another person, not a typo: Jansson and
    Jonsson, Berg and Öberg, Anna and Hanna are different names (a string ratio alone
    joined each such pair)."""
    return _words_agree(_words(one), _words(other))


def _words_agree(one: Sequence[str], other: Sequence[str]) -> bool:
    shorter, longer = sorted((one, other), key=len)
    if len(shorter) < 2 or len(longer) - len(shorter) > 1:
        return False
    unmatched = list(longer)
    in_full = 0
    for word in sorted(shorter, key=len, reverse=True):  # full words claim theirs first
        if word in unmatched:
            unmatched.remove(word)
            in_full += 1
            continue
        initial = next(
            (w for w in unmatched if (len(word) == 1 or len(w) == 1) and w[0] == word[0]), None
        )
        if initial is None:
            return False
        unmatched.remove(initial)
    return in_full >= 2


def interaction_of(meeting: IngestMeeting) -> InteractionRecorded:
    return InteractionRecorded(
        interaction_id=meeting.interaction_id,
        occurred_at=as_utc(meeting.starts_at),
        person_ids=list(meeting.person_ids),
        organizer_id=meeting.organizer_id,
        cancelled=meeting.cancelled,
    )


def same_person_by_name(
    session: IngestWork, *, owner_id: str, full_name: str, company: str | None
) -> tuple[IngestPerson, float] | None:
    """An existing person at the same company whose name agrees (``names_agree``); of
    several, the closest by rapidfuzz's token-sort ratio, which the merge's reason gives."""
    if not company or not full_name:
        return None
    name, words = normalise.folded(full_name), _words(full_name)
    best: tuple[IngestPerson, float] | None = None
    for person in store.people_at_company(session, owner_id=owner_id, company=company):
        if not _words_agree(words, _words(person.full_name)):
            continue
        score = fuzz.token_sort_ratio(name, normalise.folded(person.full_name))
        if best is None or score > best[1]:
            best = (person, score)
    return best


def merge(
    session: IngestWork, *, owner_id: str, kept: IngestPerson, merged: IngestPerson, reason: str
) -> list[Any]:
    """Move everything of ``merged`` to ``kept``; returns the canonical changes."""
    moved: dict[str, Any] = {"keys": [], "attendance": [], "favours": [], "meetings": {}}
    for key in store.keys_of(session, owner_id=owner_id, person_id=merged.person_id):
        moved["keys"].append([key.kind, key.value])
        key.person_id = kept.person_id
        session.add(key)
    changes: list[Any] = [PersonErased(person_id=merged.person_id)]
    for row in store.attendance_of(session, owner_id=owner_id, person_id=merged.person_id):
        moved["attendance"].append([row.event_id, row.status])
        session.delete(row)
        store.save_attendance(
            session,
            owner_id=owner_id,
            event_id=row.event_id,
            person_id=kept.person_id,
            status=row.status,
        )
        changes.append(
            AttendanceChanged(event_id=row.event_id, person_id=kept.person_id, status=row.status)
        )
    for favour in store.favours_of(session, owner_id=owner_id, person_id=merged.person_id):
        moved["favours"].append(favour.favour_id)
        changes.append(_move_favour(session, favour, to=kept.person_id))
    for meeting in store.meetings_with(session, owner_id=owner_id, person_id=merged.person_id):
        moved["meetings"][meeting.interaction_id] = [list(meeting.person_ids), meeting.organizer_id]
        meeting.person_ids = list(
            dict.fromkeys(
                kept.person_id if p == merged.person_id else p for p in meeting.person_ids
            )
        )
        if meeting.organizer_id == merged.person_id:
            meeting.organizer_id = kept.person_id
        session.add(meeting)
        changes.append(interaction_of(meeting))
    kept.is_contact = kept.is_contact or merged.is_contact
    kept.is_customer = kept.is_customer or merged.is_customer
    for attribute in ("company", "title", "function", "seniority", "industry", "city"):
        if getattr(kept, attribute) is None:
            setattr(kept, attribute, getattr(merged, attribute))
    snapshot = merged.model_dump()
    session.delete(merged)
    session.add(kept)
    now = datetime.now(UTC)
    session.add(
        IngestMerge(
            merge_id=stable_id("m", owner_id, kept.person_id, merged.person_id),
            owner_id=owner_id,
            kept_id=kept.person_id,
            merged_id=merged.person_id,
            reason=reason,
            merged_person=snapshot,
            moved=moved,
            merged_at=now,
        )
    )
    session.forget_looked_up()  # cached keys may point at the merged person
    session.merges.append("keys")
    session.flush()
    return changes


def record_link(
    session: IngestWork,
    *,
    owner_id: str,
    kept: IngestPerson,
    new_id: str,
    keys: list[tuple[str, str]],
    snapshot: dict[str, Any],
    reason: str,
) -> None:
    """A new record attached to an existing person (by name): undoing it splits its keys off."""
    session.add(
        IngestMerge(
            merge_id=stable_id("m", owner_id, kept.person_id, new_id),
            owner_id=owner_id,
            kept_id=kept.person_id,
            merged_id=new_id,
            reason=reason,
            merged_person=snapshot,
            moved={
                "keys": [list(k) for k in keys],
                "attendance": [],
                "favours": [],
                "meetings": {},
            },
            merged_at=datetime.now(UTC),
        )
    )
    session.merges.append("name")


def undo(session: IngestWork, *, owner_id: str, merge_id: str) -> list[Any]:
    """Split a merged person off again; returns the changes (none if unknown or undone)."""
    record = store.get_merge(session, owner_id=owner_id, merge_id=merge_id)
    if record is None or record.undone_at is not None:
        return []
    restored = IngestPerson.model_validate(record.merged_person)
    session.add(restored)
    session.write_pending()  # keys queued by ``store.add_keys`` first
    for kind, value in record.moved["keys"]:
        key = session.get(IngestPersonKey, (owner_id, kind, value))
        if key is not None:
            key.person_id = restored.person_id
            session.add(key)
    changes: list[Any] = []
    for event_id, status in record.moved["attendance"]:
        store.save_attendance(
            session,
            owner_id=owner_id,
            event_id=event_id,
            person_id=restored.person_id,
            status=status,
        )
        changes.append(
            AttendanceChanged(event_id=event_id, person_id=restored.person_id, status=status)
        )
    for favour_id in record.moved["favours"]:
        for favour in store.favours_of(session, owner_id=owner_id, person_id=record.kept_id):
            if favour.favour_id == favour_id:
                changes.append(_move_favour(session, favour, to=restored.person_id))
    session.write_pending()  # meetings queued in this transaction are read back below
    for interaction_id, (person_ids, organizer_id) in record.moved["meetings"].items():
        meeting = session.get(IngestMeeting, interaction_id)
        if meeting is not None:
            meeting.person_ids, meeting.organizer_id = person_ids, organizer_id
            session.add(meeting)
            changes.append(interaction_of(meeting))
    record.undone_at = datetime.now(UTC)
    session.add(record)
    session.forget_looked_up()
    session.flush()
    kept = store.get_person(session, person_id=record.kept_id)
    people = [restored] + ([kept] if kept is not None else [])
    return [*(store.person_changed(p) for p in people), *changes]


def _move_favour(session: IngestWork, favour: IngestFavour, *, to: str) -> FavourChanged:
    """The favour now done for or by ``to``, and the change that says so."""
    favour.person_id = to
    session.add(favour)
    return FavourChanged(
        favour_id=favour.favour_id,
        person_id=to,
        direction=favour.direction,
        kind=favour.kind,
        occurred_at=as_utc(favour.occurred_at),
    )
