"""The offline replay: an input stream projected in one process, as ingest and the
recommender would project it, into an in-memory store; and what each owner did after a
cut-off. For ``springboard evaluate``, the benchmarks and tests; never for a running service.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.ingest import canonical
from services.ingest import store as ingest_store
from services.ingest.identity import keys_for
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.recommender import store as rec_store
from services.recommender.models import TABLES as REC_TABLES
from services.recommender.snapshot import DEFAULT_HORIZON
from shared import database
from shared.messages import TYPE_TOPICS, envelope_adapter, inputs


def topic_of(document: dict[str, Any]) -> str | None:
    kind = document.get("type")
    return TYPE_TOPICS.get(kind) if isinstance(kind, str) else None


@dataclass
class Truth:
    met: set[str] = field(default_factory=set)
    attended: set[str] = field(default_factory=set)
    helped: set[str] = field(default_factory=set)


def _person(session: IngestWork, owner_id: str, email: str) -> str | None:
    """The person (not the owner themself) an address belonged to at the cut-off."""
    ids, _ = ingest_store.find_person_ids(session, owner_id=owner_id, keys=keys_for(emails=[email]))
    person = ingest_store.get_person(session, person_id=ids[0]) if ids else None
    return person.person_id if person is not None and not person.is_self else None


def _is_owner(session: IngestWork, owner_id: str, email: str) -> bool:
    ids, _ = ingest_store.find_person_ids(session, owner_id=owner_id, keys=keys_for(emails=[email]))
    person = ingest_store.get_person(session, person_id=ids[0]) if ids else None
    return person is not None and person.is_self


def project(session: IngestWork, *, owner_id: str, source: str, data: Any) -> None:
    """One input applied as ingest would, its changes projected as the recommender would
    (both services' tables in one store: for evaluation, benchmarks and tests)."""
    changes = canonical.apply(session, owner_id=owner_id, source=source, data=data)
    rec_store.apply_changes(session, [(owner_id, c) for c in changes])


def in_memory_snapshot(envelopes: Iterable[Any], *, owner_id: str, now: datetime) -> Any:
    """The snapshot of ``owner_id`` as of ``now`` after projecting ``envelopes`` in memory."""
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, INGEST_TABLES + REC_TABLES)
    with database.transaction(engine, IngestWork) as session:
        for envelope in envelopes:
            project(session, owner_id=envelope.owner_id, source=envelope.source, data=envelope.data)
    with database.transaction(engine, IngestWork) as session:
        return rec_store.load_snapshot(session, owner_id=owner_id, now=now)


def read(lines: Iterable[str]) -> tuple[list[Any], int]:
    """The input envelopes of ``lines``, and how many lines were not one."""
    envelopes: list[Any] = []
    bad = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            topic = topic_of(document)
            envelope = envelope_adapter(topic).validate_python(document) if topic else None
        except ValueError:
            envelope = None
        if envelope is None:
            bad += 1
        else:
            envelopes.append(envelope)
    return envelopes, bad


def replay(
    lines: Iterable[str], *, cutoff: datetime, horizon: timedelta
) -> tuple[Any, dict[str, Truth], int]:
    """An in-memory store as of ``cutoff``, what each owner did after it, and bad lines."""
    envelopes, bad = read(lines)
    engine, truth = replay_envelopes(envelopes, cutoff=cutoff, horizon=horizon)
    return engine, truth, bad


def replay_envelopes(
    envelopes: Sequence[Any], *, cutoff: datetime, horizon: timedelta
) -> tuple[Any, dict[str, Truth]]:
    """``replay`` of envelopes already read."""
    return next(replay_at(envelopes, cutoffs=[cutoff], horizon=horizon))[1:]


def replay_at(
    envelopes: Sequence[Any], *, cutoffs: Sequence[datetime], horizon: timedelta
) -> Iterator[tuple[datetime, Any, dict[str, Truth]]]:
    """For each cut-off in time order: one in-memory store as of it, and what each owner did
    in the horizon after it. The store is built once and carried forward from one cut-off
    to the next (what is projected never depends on the cut-off: past attendance is seen
    as registration only, always), so several cut-offs cost one replay."""
    moments = sorted(cutoffs)
    # Each envelope in the bucket of the first cut-off it precedes; file order within one.
    buckets: list[list[Any]] = [[] for _ in range(len(moments) + 1)]
    for envelope in envelopes:
        buckets[bisect.bisect_left(moments, envelope.time)].append(envelope)
    starts = {
        (e.owner_id, e.data.external_id): e.data.starts_at
        for e in envelopes
        if isinstance(e.data, inputs.EventAnnounced)
    }
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, INGEST_TABLES + REC_TABLES)
    for index, cutoff in enumerate(moments):
        with database.transaction(engine, IngestWork) as session:
            for envelope in buckets[index]:
                data = envelope.data
                if isinstance(data, inputs.AttendanceRecorded) and data.status == "attended":
                    data = data.model_copy(update={"status": inputs.AttendanceStatus.REGISTERED})
                project(session, owner_id=envelope.owner_id, source=envelope.source, data=data)
        later = [e for bucket in buckets[index + 1 :] for e in bucket]
        yield cutoff, engine, _truth(engine, later, starts, cutoff=cutoff, end=cutoff + horizon)


def _truth(
    engine: Any,
    later: Sequence[Any],
    starts: dict[tuple[str, str], datetime],
    *,
    cutoff: datetime,
    end: datetime,
) -> dict[str, Truth]:
    """What each owner did in (cutoff, end], by the people as known at the cut-off. An event
    is in the horizon by its start (the latest announcement's), not by when its attendance
    was recorded: a list imported weeks later is still that day's attendance."""
    truth: dict[str, Truth] = defaultdict(Truth)
    with database.transaction(engine, IngestWork) as session:
        for envelope in later:
            data, owner = envelope.data, envelope.owner_id
            if (
                isinstance(data, inputs.MeetingRecorded)
                and cutoff < data.starts_at <= end
                and not (data.cancelled or data.owner_declined)
            ):
                for attendee in data.attendees:
                    person = attendee.email and _person(session, owner, attendee.email)
                    if person:
                        truth[owner].met.add(person)
            elif (
                isinstance(data, inputs.AttendanceRecorded)
                and data.status == "attended"
                and cutoff < starts.get((owner, data.event_external_id), envelope.time) <= end
                and _is_owner(session, owner, data.email)
            ):
                truth[owner].attended.add(canonical.event_id_for(owner, data.event_external_id))
            elif (
                isinstance(data, inputs.FavourRecorded)
                and data.direction == "given"
                and cutoff < data.occurred_at <= end
            ):
                person = _person(session, owner, data.person_email)
                if person:
                    truth[owner].helped.add(person)
    return dict(truth)


def snapshots_at(engine: Any, moment: datetime, horizon: timedelta = DEFAULT_HORIZON) -> list[Any]:
    with database.transaction(engine, IngestWork) as session:
        owners = rec_store.owners(session)
        return [
            rec_store.load_snapshot(session, owner_id=o, now=moment, horizon=horizon)
            for o in owners
        ]
