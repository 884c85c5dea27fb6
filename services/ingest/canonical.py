"""From raw input to canonical network changes: resolve people, normalise, persist.

Each ``apply_*`` function takes one input's data, writes ingest's tables (upserts, so a
replay changes nothing twice) and returns the canonical changes to publish.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.ingest import merges, normalise, store
from services.ingest.identity import Key, keys_for, person_id_for, stable_id
from services.ingest.models import IngestEvent, IngestPerson
from services.ingest.normalise import not_a_person
from services.ingest.store import IngestWork
from shared.messages import inputs
from shared.messages.network import (
    AttendanceChanged,
    EventChanged,
    FavourChanged,
    GoalsChanged,
    InteractionRecorded,
    OwnerErased,
    PersonErased,
)

Change = Any  # one of shared.messages.network's change types


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What one input says about a person; empty fields say nothing."""

    full_name: str | None = None
    company: str | None = None
    title: str | None = None
    industry: str | None = None
    city: str | None = None
    is_contact: bool = False
    is_customer: bool = False
    introduced_by: str | None = None


def _name_from_email(email: str) -> str:
    local = email.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


def _normalised(facts: PersonFacts) -> dict[str, Any]:
    """The fields ``facts`` set on a person, normalised; empty facts set nothing."""
    fields: dict[str, Any] = {}
    if facts.full_name:
        fields["full_name"] = " ".join(facts.full_name.split())
    if facts.company:
        fields["company"] = normalise.company(facts.company)
    if facts.title:
        fields["title"] = facts.title.strip()
        fields["function"], fields["seniority"] = normalise.title_function(facts.title)
    if facts.industry:
        fields["industry"] = normalise.industry(facts.industry)
    if facts.city:
        fields["city"] = normalise.city(facts.city)
    return fields


def resolve_person(
    session: IngestWork,
    *,
    owner_id: str,
    keys: Sequence[Key],
    facts: PersonFacts,
    changes: list[Change] | None = None,
) -> IngestPerson:
    """Find the person these keys point at (or create them) and merge in the new facts.

    Keys pointing at two people merge them (changes from the merge go to ``changes``); a
    new record with the same name at the same company joins the existing person
    (``merges.names_agree``).
    """
    changes = changes if changes is not None else []
    ids, known = store.find_person_ids(session, owner_id=owner_id, keys=keys)
    person_id = ids[0] if ids else None
    for other_id in ids[1:]:
        kept, other = (store.get_person(session, person_id=i) for i in (ids[0], other_id))
        if kept is not None and other is not None:
            shared = ", ".join(f"{k} {v}" for k, v in keys if (k, v) in known)
            changes += merges.merge(
                session,
                owner_id=owner_id,
                kept=kept,
                merged=other,
                reason=f"one record names both ({shared})",
            )
    known = {k for k in keys if k in known}
    person = store.get_person(session, person_id=person_id) if person_id else None
    if person is None and facts.full_name and facts.company:
        match = merges.same_person_by_name(
            session,
            owner_id=owner_id,
            full_name=facts.full_name,
            company=normalise.company(facts.company),
        )
        if match is not None:
            person, score = match
            new_id = person_id_for(owner_id, keys[0])
            merges.record_link(
                session,
                owner_id=owner_id,
                kept=person,
                new_id=new_id,
                keys=list(keys),
                snapshot={
                    "person_id": new_id,
                    "owner_id": owner_id,
                    "full_name": facts.full_name,
                    "company": normalise.company(facts.company),
                    "is_contact": facts.is_contact,
                },
                reason=f"same company; name {facts.full_name!r} matches "
                f"{person.full_name!r} ({score:.0f}%)",
            )
    own_emails = store.own_emails(session, owner_id=owner_id)
    updates = _normalised(facts)
    is_self = any(k == "email" and v in own_emails for k, v in keys)
    company_before = person.company if person is not None else None
    if person is None:
        # Created with every fact at once: setting them one by one afterwards cost more
        # than building the person (each goes through pydantic and the ORM).
        fallback = next((v for k, v in keys if k == "email"), "unknown")
        created_id = person_id or person_id_for(owner_id, keys[0])
        person = IngestPerson(
            person_id=created_id,
            owner_id=owner_id,
            **{"full_name": facts.full_name or _name_from_email(fallback), **updates},
            is_contact=facts.is_contact,
            is_customer=facts.is_customer,
            is_self=is_self,
            introduced_by=facts.introduced_by if facts.introduced_by != created_id else None,
        )
    updates["is_contact"] = person.is_contact or facts.is_contact
    updates["is_customer"] = person.is_customer or facts.is_customer
    updates["is_self"] = person.is_self or is_self
    if facts.introduced_by and facts.introduced_by != person.person_id:
        updates["introduced_by"] = facts.introduced_by
    for field, value in updates.items():
        if getattr(person, field) != value:  # an unchanged person stays clean: no UPDATE
            setattr(person, field, value)
            session.described.pop(person.person_id, None)
    if person not in session:
        store.save_person(session, person=person)
    if person.company != company_before:  # a new person's was None
        store.company_changed(session, person, company_before)
    store.add_keys(
        session,
        owner_id=owner_id,
        person_id=person.person_id,
        keys=[k for k in keys if k not in known],
    )
    cache = session.resolved_keys
    for key in keys:
        if cache.get((owner_id, key)) is None:
            cache[(owner_id, key)] = person.person_id
    return person


def _by_email(session: IngestWork, owner_id: str, email: str, facts: PersonFacts) -> IngestPerson:
    memo = session.resolved_addresses
    seen = memo.get((owner_id, email, facts))
    if seen is not None and session.described.get(seen[0].person_id) is seen[1]:
        return seen[0]  # resolving it again would change nothing
    person = resolve_person(session, owner_id=owner_id, keys=keys_for(emails=[email]), facts=facts)
    memo[(owner_id, email, facts)] = (person, store.describe(session, person))
    return person


def _region(session: IngestWork, owner_id: str, country: str | None) -> str:
    """Default region for phone numbers: the contact's country, else the owner's."""
    if country:
        return country
    owner = store.get_owner(session, owner_id=owner_id)
    return owner.country if owner else "SE"


def _contact_keys(
    session: IngestWork, owner_id: str, source: str, data: inputs.ContactUpserted
) -> list[Key]:
    return keys_for(
        emails=data.emails,
        phones=data.phones,
        profile_url=data.profile_url,
        source_id=f"{source}:{data.external_id}",
        region=_region(session, owner_id, data.country),
    )


def apply_contact(
    session: IngestWork, owner_id: str, source: str, data: inputs.ContactUpserted
) -> list[Change]:
    if data.removed:
        return _remove_contact(session, owner_id, source, data)
    changes: list[Change] = []
    introducer_id = None
    if data.introduced_by_email:
        introducer = _by_email(
            session, owner_id, data.introduced_by_email, PersonFacts(is_contact=True)
        )
        introducer_id = introducer.person_id
        changes.append(store.describe(session, introducer))
    person = resolve_person(
        session,
        owner_id=owner_id,
        changes=changes,
        keys=_contact_keys(session, owner_id, source, data),
        facts=PersonFacts(
            full_name=data.full_name,
            company=data.company,
            title=data.title,
            industry=data.industry,
            city=data.city,
            is_contact=True,
            is_customer=data.is_customer,
            introduced_by=introducer_id,
        ),
    )
    changes.append(store.describe(session, person))
    return changes


def _remove_contact(
    session: IngestWork, owner_id: str, source: str, data: inputs.ContactUpserted
) -> list[Change]:
    """The person this address-book entry was is no longer a contact; everything else about
    them (meetings, favours, other keys) stays. Nothing if no one had it."""
    ids, _ = store.find_person_ids(
        session, owner_id=owner_id, keys=_contact_keys(session, owner_id, source, data)
    )
    person = store.get_person(session, person_id=ids[0]) if ids else None
    if person is None or person.is_self or not person.is_contact:
        return []
    person.is_contact = False
    session.add(person)
    session.described.pop(person.person_id, None)  # also voids their resolved addresses
    return [store.describe(session, person)]


def apply_meeting(
    session: IngestWork, owner_id: str, source: str, data: inputs.MeetingRecorded
) -> list[Change]:
    changes: list[Change] = []
    people: dict[str, IngestPerson] = {}
    organizer_id = None
    # Rooms, lists and no-reply senders are no one to meet, whichever source names them.
    emails = [(a.email, a.name) for a in data.attendees if a.email and not not_a_person(a.email)]
    organizer_email = data.organizer_email
    if organizer_email and not_a_person(organizer_email):
        organizer_email = None
    if organizer_email and all(e != organizer_email for e, _ in emails):
        emails.append((organizer_email, None))
    organizer = normalise.email(organizer_email) if organizer_email else None
    for email, name in emails:
        person = _by_email(session, owner_id, email, PersonFacts(full_name=name, is_contact=True))
        people[person.person_id] = person
        if organizer and normalise.email(email) == organizer:
            organizer_id = person.person_id
    for name in (a.name for a in data.attendees if not a.email and a.name):
        person = resolve_person(
            session,
            owner_id=owner_id,
            keys=keys_for(names=[name]),
            facts=PersonFacts(full_name=name, is_contact=True),
        )
        people[person.person_id] = person
    changes += [store.describe(session, p) for p in people.values()]
    interaction_id = stable_id("i", owner_id, source, data.external_id)
    cancelled = data.cancelled or data.owner_declined
    store.save_meeting(
        session,
        interaction_id=interaction_id,
        owner_id=owner_id,
        external_id=data.external_id,
        title=data.title,
        starts_at=data.starts_at,
        organizer_id=organizer_id,
        person_ids=list(people),
        cancelled=cancelled,
    )
    changes.append(
        InteractionRecorded(
            interaction_id=interaction_id,
            occurred_at=data.starts_at,
            person_ids=list(people),
            organizer_id=organizer_id,
            cancelled=cancelled,
        )
    )
    return changes


def event_id_for(owner_id: str, external_id: str) -> str:
    return stable_id("e", owner_id, external_id)


def apply_event(
    session: IngestWork, owner_id: str, _source: str, data: inputs.EventAnnounced
) -> list[Change]:
    event_id = event_id_for(owner_id, data.external_id)
    topics = sorted({normalise.folded(t) for t in data.topics if t.strip()})
    city = normalise.city(data.city)
    store.save_event(
        session,
        event=IngestEvent(
            event_id=event_id,
            owner_id=owner_id,
            external_id=data.external_id,
            title=data.title,
            starts_at=data.starts_at,
            city=city,
            topics=topics,
            series=data.series,
        ),
    )
    return [
        EventChanged(
            event_id=event_id,
            title=data.title,
            starts_at=data.starts_at,
            city=city,
            topics=topics,
            series=data.series,
        )
    ]


def apply_attendance(
    session: IngestWork, owner_id: str, _source: str, data: inputs.AttendanceRecorded
) -> list[Change]:
    person = _by_email(
        session,
        owner_id,
        data.email,
        PersonFacts(full_name=data.full_name, company=data.company, title=data.title),
    )
    event_id = event_id_for(owner_id, data.event_external_id)
    store.save_attendance(
        session,
        owner_id=owner_id,
        event_id=event_id,
        person_id=person.person_id,
        status=data.status.value,
    )
    return [
        store.describe(session, person),
        AttendanceChanged(event_id=event_id, person_id=person.person_id, status=data.status.value),
    ]


def apply_goals(
    session: IngestWork, owner_id: str, _source: str, data: inputs.GoalsSet
) -> list[Change]:
    emails = [normalise.email(e) for e in data.emails]
    store.save_owner(
        session, owner_id=owner_id, full_name=data.full_name, emails=emails, country=data.country
    )
    changes: list[Change] = []
    for email in emails:  # the owner is a person of their own network, marked as self
        changes.append(
            store.describe(
                session,
                _by_email(
                    session,
                    owner_id,
                    email,
                    PersonFacts(full_name=data.full_name, city=data.home_city, is_contact=True),
                ),
            )
        )
    changes.append(
        GoalsChanged(
            home_city=normalise.city(data.home_city),
            industries=[i for i in (normalise.industry(x) for x in data.target_industries) if i],
            functions=[f.strip() for f in data.target_functions if f.strip()],
            cities=[c for c in (normalise.city(x) for x in data.target_cities) if c],
            interests=sorted({normalise.folded(t) for t in data.interests if t.strip()}),
        )
    )
    return changes


def apply_favour(
    session: IngestWork, owner_id: str, source: str, data: inputs.FavourRecorded
) -> list[Change]:
    person = _by_email(session, owner_id, data.person_email, PersonFacts(is_contact=True))
    favour_id = stable_id("f", owner_id, source, data.external_id)
    store.save_favour(
        session,
        favour_id=favour_id,
        owner_id=owner_id,
        person_id=person.person_id,
        direction=data.direction,
        kind=data.kind.value,
        occurred_at=data.occurred_at,
    )
    return [
        store.describe(session, person),
        FavourChanged(
            favour_id=favour_id,
            person_id=person.person_id,
            direction=data.direction,
            kind=data.kind.value,
            occurred_at=data.occurred_at,
        ),
    ]


def apply_erasure(
    session: IngestWork, owner_id: str, _source: str, data: inputs.ErasePerson | inputs.EraseOwner
) -> list[Change]:
    if isinstance(data, inputs.EraseOwner):
        store.erase_owner(session, owner_id=owner_id)
        return [OwnerErased()]
    changes: list[Change] = []
    keys = keys_for(
        emails=[data.email] if data.email else [],
        phones=[data.phone] if data.phone else [],
        profile_url=data.profile_url,
        names=[data.name] if data.name else [],
        region=_region(session, owner_id, None),
    )
    for person_id in store.person_ids_with_keys(session, owner_id=owner_id, keys=keys):
        store.erase_person(session, owner_id=owner_id, person_id=person_id)
        changes.append(PersonErased(person_id=person_id, requested=True))
    return changes


def apply_undo_merge(
    session: IngestWork, owner_id: str, _source: str, data: inputs.UndoMerge
) -> list[Change]:
    return merges.undo(session, owner_id=owner_id, merge_id=data.merge_id)


APPLIERS: dict[type[Any], Callable[[IngestWork, str, str, Any], list[Change]]] = {
    inputs.ContactUpserted: apply_contact,
    inputs.MeetingRecorded: apply_meeting,
    inputs.EventAnnounced: apply_event,
    inputs.AttendanceRecorded: apply_attendance,
    inputs.GoalsSet: apply_goals,
    inputs.FavourRecorded: apply_favour,
    inputs.ErasePerson: apply_erasure,
    inputs.EraseOwner: apply_erasure,
    inputs.UndoMerge: apply_undo_merge,
}


def _keys_named(session: IngestWork, owner_id: str, source: str, data: Any) -> list[Key]:
    """The keys an input resolves people by."""
    emails: Sequence[str] = []
    if isinstance(data, inputs.MeetingRecorded):
        emails = [a.email for a in data.attendees if a.email]
        emails += [e for e in [data.organizer_email] if e]
        names = [a.name for a in data.attendees if not a.email and a.name]
        return keys_for(emails=emails, names=names)
    elif isinstance(data, inputs.AttendanceRecorded):
        emails = [data.email]
    elif isinstance(data, inputs.FavourRecorded):
        emails = [data.person_email]
    elif isinstance(data, inputs.GoalsSet):
        emails = data.emails
    elif isinstance(data, inputs.ContactUpserted):
        introducer = [data.introduced_by_email] if data.introduced_by_email else []
        return keys_for(emails=introducer) + _contact_keys(session, owner_id, source, data)
    return keys_for(emails=emails)


def look_up_people(session: IngestWork, batch: Sequence[tuple[str, str, Any]]) -> None:
    """Look up everyone a batch of (owner, source, input) names, and the people at the
    companies of those who are new (the same name there is the same person:
    ``merges.same_person_by_name``): one query each for the whole batch instead of per input."""
    store.look_up_owners(session, [owner_id for owner_id, _, _ in batch])
    named = [
        (owner, data, _keys_named(session, owner, source, data)) for owner, source, data in batch
    ]
    store.look_up_keys(session, [(owner_id, k) for owner_id, _, keys in named for k in keys])
    cache = session.resolved_keys
    companies: list[tuple[str, str]] = []
    for owner_id, data, input_keys in named:
        if not isinstance(data, inputs.AttendanceRecorded | inputs.ContactUpserted):
            continue
        company = normalise.company(data.company) if data.full_name and data.company else None
        if company and not any(cache.get((owner_id, k)) for k in input_keys):  # no one known
            companies.append((owner_id, company))
    store.look_up_companies(session, companies)


def apply(session: IngestWork, *, owner_id: str, source: str, data: Any) -> list[Change]:
    """Apply one input to ingest's store and return the canonical changes it makes."""
    return APPLIERS[type(data)](session, owner_id, source, data)
