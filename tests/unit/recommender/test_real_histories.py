"""The real histories shipped in installed packages, converted as bench.real_histories states."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bench import real_histories as rh
from shared.messages.inputs import (
    AttendanceRecorded,
    ContactUpserted,
    EventAnnounced,
    GoalsSet,
    MeetingRecorded,
)


def test_a_meeting_is_a_run_of_records_at_most_three_steps_apart() -> None:
    records = [rh.Record(t, "1", "2") for t in (0, 20, 40, 100, 200, 240)] + [
        rh.Record(20, "3", "1"),
        rh.Record(30, "4", "4"),  # a person with themself is no meeting
    ]
    assert rh.resolution(sorted(records, key=lambda r: r.at)) == 10
    meetings = sorted(rh.meetings(records, step=20))
    # 0-40 and 100 are within 60 s; 200 is 100 s after 100; one record with 3.
    assert meetings == [("1", "2", 0, 120), ("1", "2", 200, 260), ("1", "3", 20, 40)]


@pytest.mark.parametrize("name", sorted(rh.HISTORIES))
def test_every_history_is_installed_and_readable(name: str) -> None:
    records, groups = rh.HISTORIES[name].read()
    assert len(records) > 10_000
    assert all(a.at <= b.at for a, b in itertools.pairwise(records))
    if rh.HISTORIES[name].groups_in_file:
        assert groups


def test_the_hospital_ward_converts_by_the_stated_protocol() -> None:
    history = rh.HISTORIES["hospital"]
    records, groups = history.read()
    envelopes = rh.envelopes(history)
    people = {r.a for r in records} | {r.b for r in records}
    owners = {e.owner_id for e in envelopes}
    assert owners == {f"hospital-{p}" for p in people}
    assert [e.time for e in envelopes] == sorted(e.time for e in envelopes)
    one = "hospital-" + sorted(people)[0]
    mine = [e.data for e in envelopes if e.owner_id == one]
    assert isinstance(mine[0], GoalsSet)
    listed = [d for d in mine if isinstance(d, AttendanceRecorded)]
    assert len(listed) == len(people)  # everyone, the owner too, on the ward's one list
    assert {d.company for d in listed} == set(groups.values())  # role as the company
    assert sum(isinstance(d, EventAnnounced) for d in mine) == 1
    contacts = [d for d in mine if isinstance(d, ContactUpserted)]
    meetings = [d for d in mine if isinstance(d, MeetingRecorded)]
    assert len({c.external_id for c in contacts}) == len(contacts)  # each at first meeting
    assert meetings
    assert all(len(m.attendees) == 2 for m in meetings)
    assert all(m.ends_at - m.starts_at >= timedelta(seconds=20) for m in meetings)


def test_cutoffs_are_at_60_70_80_percent_and_the_horizon_is_a_tenth_of_the_span() -> None:
    history = rh.HISTORIES["hospital"]
    records, _ = history.read()
    cutoffs, horizon = rh.cutoffs(history)
    span = records[-1].at - records[0].at
    assert [c.timestamp() - records[0].at for c in cutoffs] == pytest.approx(
        [0.6 * span, 0.7 * span, 0.8 * span]
    )
    assert horizon.total_seconds() == pytest.approx(0.1 * span)


def test_an_online_community_has_no_attendee_list() -> None:
    history = rh.HISTORIES["messages"]
    assert not history.in_one_place


def test_a_missing_package_is_one_clear_error() -> None:
    missing = rh.History("x", "x", "no-such-distribution-here", "data.csv")
    with pytest.raises(rh.MissingData, match="not installed"):
        missing.read()
