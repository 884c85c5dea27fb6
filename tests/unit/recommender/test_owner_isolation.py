"""One owner's data never appears in another owner's recommendations or network map."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.offline.replay import project
from services.recommender import network_map, store
from services.recommender.models import TABLES as REC_TABLES
from services.recommender.scoring import recommend
from shared import database
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    EventAnnounced,
    FavourRecorded,
    GoalsSet,
    MeetingRecorded,
)

NOW = datetime(2026, 11, 28, tzinfo=UTC)
PEOPLE = [f"p{i}@shared.example" for i in range(8)]  # the same addresses under every owner

owner_world = st.tuples(
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=6, unique=True),  # contacts
    st.lists(st.tuples(st.sampled_from(PEOPLE), st.integers(1, 400)), max_size=12),  # meetings
    st.lists(st.sampled_from(PEOPLE), max_size=4),  # favours received
    st.lists(st.sampled_from(PEOPLE), max_size=5),  # registered for an upcoming event
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(owner_world, min_size=2, max_size=4))
def test_no_owner_sees_another_owners_people_or_events(worlds) -> None:
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, INGEST_TABLES + REC_TABLES)
    owners = [f"owner{i}" for i in range(len(worlds))]
    with database.transaction(engine, IngestWork) as session:
        for owner, (contacts, meetings, favours, registered) in zip(owners, worlds, strict=True):
            me = f"{owner}@home.example"
            inputs = [GoalsSet(full_name=owner, emails=[me], home_city="Stockholm")]
            inputs += [
                ContactUpserted(
                    external_id=e, full_name=f"{owner} sees {e}", emails=[e], company="Shared AB"
                )
                for e in contacts
            ]
            inputs += [
                MeetingRecorded(
                    external_id=f"m{k}",
                    starts_at=NOW - timedelta(days=d),
                    organizer_email=me,
                    attendees=[Attendee(email=me), Attendee(email=e)],
                )
                for k, (e, d) in enumerate(meetings)
            ]
            inputs += [
                FavourRecorded(
                    external_id=f"f{k}",
                    person_email=e,
                    direction="received",
                    kind="referral",
                    occurred_at=NOW - timedelta(days=10),
                )
                for k, e in enumerate(favours)
            ]
            inputs.append(
                EventAnnounced(
                    external_id="ev",
                    title=f"{owner}'s event",
                    starts_at=NOW + timedelta(days=5),
                    city="Stockholm",
                )
            )
            inputs += [AttendanceRecorded(event_external_id="ev", email=e) for e in registered]
            for data in inputs:
                project(session, owner_id=owner, source="test", data=data)
    with database.transaction(engine, IngestWork) as session:
        snapshots = {o: store.load_snapshot(session, owner_id=o, now=NOW) for o in owners}
    for owner, snapshot in snapshots.items():
        own_ids = set(snapshot.people) | set(snapshot.events)
        others = set().union(
            *(set(s.people) | set(s.events) for o, s in snapshots.items() if o != owner)
        )
        assert not own_ids & others  # ids never collide across owners
        made = recommend(snapshot, per_kind=50, max_per_company=50)
        for item in made.items:
            assert item.subject_id in own_ids
            assert item.introducer_id is None or item.introducer_id in own_ids
            text = " ".join([item.subject_name, item.introducer_name or "", *item.reasons])
            assert not any(f"{other} " in text for other in owners if other != owner)
        rendered = network_map.render_text(network_map.build(snapshot))
        assert not any(f"{other} sees" in rendered for other in owners if other != owner)
