"""The recommender's persistence: projecting network updates and feedback into its own
tables (each owner marked to be scored again; the scheduler scores them, debounced),
loading snapshots, owner state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, delete, func, or_, select

from services.recommender.models import (
    TABLES,
    RecAttendance,
    RecEvent,
    RecFavour,
    RecFeedback,
    RecGoals,
    RecInteraction,
    RecIssued,
    RecOwnerState,
    RecPerson,
)
from services.recommender.snapshot import (
    DEFAULT_HORIZON,
    Event,
    Favour,
    Goals,
    Interaction,
    Person,
    Snapshot,
)
from shared.broker import Decoded
from shared.clock import as_utc
from shared.messages import FeedbackGiven, network
from shared.messages.recommendations import RankedItem
from shared.unit_of_work import UnitOfWork, upsert

SUPPRESS_AFTER = {
    "dismissed": timedelta(days=90),
    "snoozed": timedelta(days=14),
    "done": timedelta(days=30),
    "accepted": timedelta(days=30),
}


def project_batch(work: UnitOfWork, batch: list[Decoded]) -> list[str]:
    """Project a batch in ``work``; the owners it changed, each marked changed as of the
    oldest input behind the batch's messages (its time and correlation id)."""
    now = datetime.now(UTC)
    changes: list[tuple[str, Any]] = []
    for item in batch:
        envelope = item.envelope
        if isinstance(envelope.data, FeedbackGiven):
            record_feedback(
                work,
                owner_id=envelope.owner_id,
                suggestion_id=envelope.data.suggestion_id,
                action=envelope.data.action.value,
                at=envelope.time,
            )
        else:
            changes += [(envelope.owner_id, change) for change in envelope.data.changes]
    apply_changes(work, changes)
    oldest: dict[str, tuple[datetime, str | None]] = {}
    for item in batch:
        envelope = item.envelope
        earliest = oldest.get(envelope.owner_id)
        if earliest is None or envelope.time < earliest[0]:
            oldest[envelope.owner_id] = (envelope.time, envelope.correlation_id or envelope.id)
    mark_changed(work, inputs=oldest, at=now)
    return list(oldest)


Row = tuple[type[Any], tuple[str, ...], dict[str, Any]]


def row_for(owner_id: str, change: Any) -> Row | None:
    """The projection row a change upserts (table, key columns, values); None for erasures."""
    match change:
        case network.PersonChanged():
            row = change.model_dump(exclude={"change", "title"})
            return RecPerson, ("owner_id", "person_id"), {"owner_id": owner_id, **row}
        case network.InteractionRecorded():
            return (
                RecInteraction,
                ("owner_id", "interaction_id"),
                {
                    "owner_id": owner_id,
                    "interaction_id": change.interaction_id,
                    "occurred_at": change.occurred_at,
                    "person_ids": change.person_ids,
                    "organizer_id": change.organizer_id,
                    "cancelled": change.cancelled,
                },
            )
        case network.EventChanged():
            return (
                RecEvent,
                ("owner_id", "event_id"),
                {
                    "owner_id": owner_id,
                    "event_id": change.event_id,
                    "title": change.title,
                    "starts_at": change.starts_at,
                    "city": change.city,
                    "topics": change.topics,
                    "series": change.series,
                },
            )
        case network.AttendanceChanged():
            return (
                RecAttendance,
                ("owner_id", "event_id", "person_id"),
                {
                    "owner_id": owner_id,
                    "event_id": change.event_id,
                    "person_id": change.person_id,
                    "status": change.status,
                },
            )
        case network.GoalsChanged():
            return (
                RecGoals,
                ("owner_id",),
                {
                    "owner_id": owner_id,
                    "home_city": change.home_city,
                    "industries": change.industries,
                    "functions": change.functions,
                    "cities": change.cities,
                    "interests": change.interests,
                },
            )
        case network.FavourChanged():
            return (
                RecFavour,
                ("owner_id", "favour_id"),
                {
                    "owner_id": owner_id,
                    "favour_id": change.favour_id,
                    "person_id": change.person_id,
                    "direction": change.direction,
                    "kind": change.kind,
                    "occurred_at": change.occurred_at,
                },
            )
        case network.PersonErased() | network.OwnerErased():
            return None
    raise TypeError(f"unknown network change {type(change).__name__}")


def apply_changes(session: UnitOfWork, changes: Sequence[tuple[str, Any]]) -> None:
    """Project (owner id, change) pairs in order, with one bulk upsert per table.

    Upserts are queued (the last write to a key wins) and written before any erasure,
    so an erasure always applies to everything that came before it.
    """
    for owner_id, change in changes:
        found = row_for(owner_id, change)
        if found is None:
            session.write_pending()
            if isinstance(change, network.PersonErased):
                erase_person(session, owner_id=owner_id, person_id=change.person_id)
            else:
                erase_owner(session, owner_id=owner_id)
            continue
        table, keys, row = found
        session.upsert_later(table, [row], keys=keys)
    session.write_pending()


def erase_person(session: UnitOfWork, *, owner_id: str, person_id: str) -> None:
    for table in (RecPerson, RecAttendance, RecFavour):
        columns: Any = table
        session.exec(
            delete(table).where(
                col(columns.owner_id) == owner_id, col(columns.person_id) == person_id
            )
        )
    for row in session.exec(
        select(RecInteraction).where(RecInteraction.owner_id == owner_id)
    ).all():
        if person_id in row.person_ids or row.organizer_id == person_id:
            row.person_ids = [p for p in row.person_ids if p != person_id]
            if row.organizer_id == person_id:
                row.organizer_id = None
            session.add(row)
    session.exec(
        delete(RecIssued).where(
            col(RecIssued.owner_id) == owner_id, col(RecIssued.subject_id) == person_id
        )
    )


def erase_owner(session: UnitOfWork, *, owner_id: str) -> None:
    for table in TABLES:
        if table is RecOwnerState:
            # Kept until the scheduler has published the (now empty) lists once more;
            # ``forget_if_empty`` removes it then.
            continue
        session.exec(delete(table).where(table.owner_id == owner_id))  # type: ignore[attr-defined]


def forget_if_empty(session: UnitOfWork, *, owner_id: str) -> bool:
    """Remove an owner's state once nothing of their network is left (an erased owner whose
    empty list has been published); True if it was removed."""
    for table in TABLES:
        if table is RecOwnerState:
            continue
        column: Any = table.owner_id  # type: ignore[attr-defined]
        if session.exec(select(column).where(column == owner_id).limit(1)).first() is not None:
            return False
    state = session.get(RecOwnerState, owner_id)
    if state is not None:
        session.delete(state)
    return True


def record_feedback(
    session: UnitOfWork, *, owner_id: str, suggestion_id: str, action: str, at: datetime
) -> None:
    upsert(
        session,
        RecFeedback,
        [{"owner_id": owner_id, "suggestion_id": suggestion_id, "action": action, "given_at": at}],
        keys=["owner_id", "suggestion_id"],
    )


# Asked with every batch and every look for owners due: built once (building a statement
# costs more than running it for a few owners).
_OWNER_STATES = select(RecOwnerState).where(
    col(RecOwnerState.owner_id).in_(bindparam("owner_ids", expanding=True))
)
_OWNERS_DUE = select(RecOwnerState).where(
    or_(
        col(RecOwnerState.scored_at).is_(None),
        col(RecOwnerState.changed_at) > col(RecOwnerState.scored_at),
        col(RecOwnerState.scored_at) < bindparam("refreshed_before"),
    ),
    # settled: while updates flow, most owners are not
    or_(
        col(RecOwnerState.changed_at).is_(None),
        col(RecOwnerState.changed_at) <= bindparam("settled_by"),
    ),
)


def mark_changed(
    session: UnitOfWork, *, inputs: dict[str, tuple[datetime, str | None]], at: datetime
) -> None:
    """Owners whose network changed ``at``; ``inputs`` holds each one's oldest input (its
    time and correlation id), kept until the next ranked list: for end-to-end latency, and
    so that the list carries the correlation id of the input that started it."""
    known = {r.owner_id: r for r in session.exec(_OWNER_STATES, params={"owner_ids": list(inputs)})}
    rows = []
    for owner_id, (oldest, correlation) in sorted(inputs.items()):
        before = known.get(owner_id)
        if before is not None and before.input_at is not None and as_utc(before.input_at) <= oldest:
            oldest, correlation = as_utc(before.input_at), before.correlation_id
        rows.append(
            {
                "owner_id": owner_id,
                "changed_at": at,
                "input_at": oldest,
                "correlation_id": correlation,
            }
        )
    upsert(
        session,
        RecOwnerState,
        rows,
        keys=["owner_id"],
        update=["changed_at", "input_at", "correlation_id"],
    )


def owners_due(
    session: UnitOfWork, *, now: datetime, debounce: timedelta, refresh: timedelta
) -> list[RecOwnerState]:
    """Owners whose network changed at least ``debounce`` ago and were not scored since,
    or who were last scored more than ``refresh`` ago."""
    return list(
        session.exec(
            _OWNERS_DUE, params={"refreshed_before": now - refresh, "settled_by": now - debounce}
        ).all()
    )


def mark_scored(session: UnitOfWork, *, owner_id: str, at: datetime) -> None:
    """Scored at ``at``; inputs older than that are now reflected in a published list."""
    row = session.get(RecOwnerState, owner_id) or RecOwnerState(owner_id=owner_id)
    row.scored_at = at
    if row.changed_at is None or as_utc(row.changed_at) <= at:
        row.input_at = None
        row.correlation_id = None
    session.add(row)


def record_issued(
    session: UnitOfWork, *, owner_id: str, items: Sequence[RankedItem], at: datetime
) -> None:
    upsert(
        session,
        RecIssued,
        [
            {
                "owner_id": owner_id,
                "suggestion_id": i.suggestion_id,
                "kind": i.kind.value,
                "subject_id": i.subject_id,
                "issued_at": at,
            }
            for i in items
        ],
        keys=["owner_id", "suggestion_id"],
        update=[],
    )


def _columns(table: type[SQLModel], *names: str) -> Any:
    """A query for some columns of ``table``, as plain rows."""
    columns = table.__table__.c  # type: ignore[attr-defined]
    return sa_select(*(columns[name] for name in names))


_OWNER_ID: Any = bindparam("owner_id")
# An owner's snapshot, built once: it is read every time the owner is scored.
_SNAPSHOT_PEOPLE = _columns(
    RecPerson,
    "person_id",
    "full_name",
    "company",
    "function",
    "seniority",
    "industry",
    "city",
    "is_contact",
    "is_customer",
    "is_self",
    "introduced_by",
).where(RecPerson.owner_id == _OWNER_ID)
_SNAPSHOT_INTERACTIONS = _columns(
    RecInteraction, "interaction_id", "occurred_at", "person_ids", "organizer_id"
).where(RecInteraction.owner_id == _OWNER_ID, col(RecInteraction.cancelled).is_(False))
_SNAPSHOT_EVENTS = _columns(
    RecEvent, "event_id", "title", "starts_at", "city", "topics", "series"
).where(RecEvent.owner_id == _OWNER_ID)
_SNAPSHOT_ATTENDANCE = _columns(RecAttendance, "event_id", "person_id", "status").where(
    RecAttendance.owner_id == _OWNER_ID
)
_SNAPSHOT_FAVOURS = _columns(RecFavour, "person_id", "direction", "kind", "occurred_at").where(
    RecFavour.owner_id == _OWNER_ID
)


def load_snapshot(
    session: UnitOfWork, *, owner_id: str, now: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> Snapshot:
    by_owner = {"owner_id": owner_id}
    # Plain rows, not ORM objects: building an object per row cost more than the query.
    people = {
        r.person_id: Person(
            person_id=r.person_id,
            full_name=r.full_name,
            company=r.company,
            function=r.function,
            seniority=r.seniority,
            industry=r.industry,
            city=r.city,
            is_contact=r.is_contact,
            is_customer=r.is_customer,
            is_self=r.is_self,
            introduced_by=r.introduced_by,
        )
        for r in session.execute(_SNAPSHOT_PEOPLE, by_owner)
    }
    interactions = [
        Interaction(
            id=r.interaction_id,
            at=as_utc(r.occurred_at),
            person_ids=frozenset(r.person_ids),
            organizer_id=r.organizer_id,
        )
        for r in session.execute(_SNAPSHOT_INTERACTIONS, by_owner)
    ]
    events = {
        r.event_id: Event(
            id=r.event_id,
            title=r.title,
            starts_at=as_utc(r.starts_at),
            city=r.city,
            topics=tuple(r.topics or ()),
            series=r.series,
        )
        for r in session.execute(_SNAPSHOT_EVENTS, by_owner)
    }
    attendance: dict[str, dict[str, str]] = defaultdict(dict)
    for event_id, person_id, status in session.execute(_SNAPSHOT_ATTENDANCE, by_owner):
        attendance[event_id][person_id] = status
    favours = [
        Favour(person_id=r.person_id, direction=r.direction, kind=r.kind, at=as_utc(r.occurred_at))
        for r in session.execute(_SNAPSHOT_FAVOURS, by_owner)
    ]
    goals_row = session.get(RecGoals, owner_id)
    goals = (
        Goals(
            home_city=goals_row.home_city,
            industries=frozenset(goals_row.industries or ()),
            functions=frozenset(goals_row.functions or ()),
            cities=frozenset(goals_row.cities or ()),
            interests=frozenset(goals_row.interests or ()),
        )
        if goals_row
        else Goals()
    )
    suppressed = set()
    for issued, fb in _answered(session, owner_id=owner_id):
        window = SUPPRESS_AFTER.get(fb.action)
        if window and as_utc(fb.given_at) > now - window:
            suppressed.add(issued.subject_id)
    return Snapshot(
        owner_id=owner_id,
        now=now,
        people=people,
        interactions=interactions,
        events=events,
        attendance=dict(attendance),
        favours=favours,
        goals=goals,
        suppressed=frozenset(suppressed),
        horizon=horizon,
    )


_ANSWERED = select(RecIssued, RecFeedback).where(
    RecIssued.owner_id == _OWNER_ID,
    RecFeedback.owner_id == _OWNER_ID,
    RecFeedback.suggestion_id == RecIssued.suggestion_id,
)


def _answered(session: UnitOfWork, *, owner_id: str) -> list[tuple[RecIssued, RecFeedback]]:
    """The owner's suggestions that got an answer, with the answer."""
    return list(session.exec(_ANSWERED, params={"owner_id": owner_id}).all())


def judged_suggestions(
    session: UnitOfWork, *, owner_id: str
) -> list[tuple[str, str, datetime, str]]:
    """(kind, subject id, when it was issued, the owner's answer) for answered suggestions."""
    rows = _answered(session, owner_id=owner_id)
    return [(i.kind, i.subject_id, as_utc(i.issued_at), f.action) for i, f in rows]


def owners(session: UnitOfWork) -> list[str]:
    return list(
        session.exec(select(RecPerson.owner_id).distinct().order_by(col(RecPerson.owner_id)))
    )


def feedback_count(session: UnitOfWork) -> int:
    return session.exec(select(func.count()).select_from(RecFeedback)).one()
