from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from services.ingest import canonical
from services.ingest.store import IngestWork
from services.offline import evaluate, replay
from services.recommender.ranking_quality import ndcg_at, paired_difference, precision_at, recall_at
from shared.messages import encode, wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    EventAnnounced,
    GoalsSet,
    MeetingRecorded,
)

CUTOFF = datetime(2026, 6, 1, tzinfo=UTC)


def test_metrics_match_hand_computed_values() -> None:
    ranked = ["a", "b", "c", "d"]
    relevant = {"b", "d"}
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(dcg / ideal)
    assert precision_at(ranked, relevant, 2) == 0.5
    assert recall_at(ranked, relevant, 2) == 0.5
    assert ndcg_at(["b", "d"], relevant, 10) == pytest.approx(1.0)


def test_paired_difference_separates_a_steady_lead_from_luck() -> None:
    # Ahead on every owner by 0.1 to 0.3: the whole interval lies above zero.
    mean, low, high = paired_difference([0.5, 0.6, 0.7, 0.8], [0.4, 0.4, 0.5, 0.5])
    assert mean == pytest.approx(0.2)
    assert 0.1 <= low < mean < high <= 0.3
    # Far ahead on one owner, behind on the others: the same mean, an interval across zero.
    mean, low, high = paired_difference([1.0, 0.4, 0.4, 0.4], [0.0, 0.5, 0.5, 0.5])
    assert mean == pytest.approx(0.175)
    assert low < 0 < high
    # One owner: nothing to resample, the interval is the difference itself.
    assert paired_difference([0.7], [0.5]) == pytest.approx((0.2, 0.2, 0.2))
    with pytest.raises(ValueError, match="no rankings"):
        paired_difference([], [])


def test_paired_difference_resamples_whole_owners() -> None:
    # One owner ranked at six cut-offs, far ahead each time; three owners ranked once, behind.
    ours = [0.9] * 6 + [0.4] * 3
    theirs = [0.4] * 6 + [0.5] * 3
    owners = ["a"] * 6 + ["b", "c", "d"]
    mean, low, high = paired_difference(ours, theirs)
    assert mean == pytest.approx(0.3)
    assert low > 0
    # Four owners, and whether the one ahead is drawn decides it: no clear lead.
    mean, low, high = paired_difference(ours, theirs, groups=owners)
    assert mean == pytest.approx(0.3)
    assert low == pytest.approx(-0.1)
    assert mean < high < 0.5


def lines() -> list[str]:
    owner, me = "o1", "me@example.com"

    def env(data, time):
        return encode(wrap(data, owner_id=owner, source="test", time=time)).decode()

    out = [env(GoalsSet(full_name="Me", emails=[me]), CUTOFF - timedelta(days=400))]
    for name in ("anna", "bo", "cy"):
        out.append(
            env(
                ContactUpserted(
                    external_id=name, full_name=name.title(), emails=[f"{name}@x.example"]
                ),
                CUTOFF - timedelta(days=400),
            )
        )
    # Anna: met every 30 days until 120 days ago (overdue); Bo: met 200 days ago once.
    for days in (240, 210, 180, 150, 120):
        at = CUTOFF - timedelta(days=days)
        out.append(
            env(
                MeetingRecorded(
                    external_id=f"a{days}",
                    starts_at=at,
                    organizer_email=me,
                    attendees=[Attendee(email=me), Attendee(email="anna@x.example")],
                ),
                at,
            )
        )
    at = CUTOFF - timedelta(days=200)
    out.append(
        env(
            MeetingRecorded(
                external_id="b1",
                starts_at=at,
                organizer_email=me,
                attendees=[Attendee(email=me), Attendee(email="bo@x.example")],
            ),
            at,
        )
    )
    # After the cut-off: the owner meets Anna again and attends an event.
    later = CUTOFF + timedelta(days=10)
    out.append(
        env(
            MeetingRecorded(
                external_id="a-again",
                starts_at=later,
                organizer_email=me,
                attendees=[Attendee(email=me), Attendee(email="anna@x.example")],
            ),
            later,
        )
    )
    event_day = CUTOFF + timedelta(days=20)
    out.append(
        env(
            EventAnnounced(external_id="ev", title="Fintech Breakfast", starts_at=event_day),
            CUTOFF - timedelta(days=30),
        )
    )
    out.append(
        env(
            AttendanceRecorded(event_external_id="ev", email="cy@x.example", status="attended"),
            CUTOFF - timedelta(days=3),
        )
    )
    out.append(
        env(AttendanceRecorded(event_external_id="ev", email=me, status="attended"), event_day)
    )
    return out


def test_replay_sees_nothing_after_the_cutoff_and_scores_what_happened() -> None:
    report = evaluate.run(lines(), cutoff=CUTOFF, horizon=timedelta(days=30))
    assert report["unreadable_lines"] == 0
    reconnect = report["kinds"]["reconnect"]
    assert reconnect["owners"] == 1
    assert reconnect["rankers"]["model"]["ndcg@10"] == pytest.approx(1.0)  # Anna is first
    for name, gap in reconnect["model_minus"].items():
        expected = 1.0 - reconnect["rankers"][name]["ndcg@10"]
        assert gap["ndcg@10"] == pytest.approx(expected, abs=1e-4)
        assert gap["ci95"] == pytest.approx([expected, expected], abs=1e-4)  # one owner
    event = report["kinds"]["event"]["rankers"]["model"]
    assert event["recall@10"] == 1.0


def test_attendance_after_the_cutoff_is_not_known_as_attendance_at_the_cutoff() -> None:
    engine, truth, _ = replay.replay(lines(), cutoff=CUTOFF, horizon=timedelta(days=30))
    [owner_truth] = truth.values()
    assert len(owner_truth.attended) == 1
    assert len(owner_truth.met) == 1
    from services.recommender import store
    from shared import database

    with database.transaction(engine, IngestWork) as session:
        snapshot = store.load_snapshot(session, owner_id="o1", now=CUTOFF)
    statuses = {s for people in snapshot.attendance.values() for s in people.values()}
    assert statuses <= {"registered"}
    assert all(i.at <= CUTOFF for i in snapshot.interactions)


def test_an_event_counts_as_attended_in_the_horizon_its_start_falls_in() -> None:
    def env(data, time):
        return encode(wrap(data, owner_id="o1", source="test", time=time)).decode()

    me = "me@example.com"
    late_day, listed_late_day = CUTOFF + timedelta(days=45), CUTOFF + timedelta(days=25)
    extra = [
        env(EventAnnounced(external_id="late", title="Late", starts_at=late_day), CUTOFF),
        env(AttendanceRecorded(event_external_id="late", email=me, status="attended"), late_day),
        # An event inside the horizon whose attendance list arrives after the horizon.
        env(
            EventAnnounced(external_id="listed", title="Listed", starts_at=listed_late_day),
            CUTOFF,
        ),
        env(
            AttendanceRecorded(event_external_id="listed", email=me, status="attended"),
            CUTOFF + timedelta(days=50),
        ),
    ]
    ids = {n: canonical.event_id_for("o1", n) for n in ("ev", "late", "listed")}
    _, truth, _ = replay.replay([*lines(), *extra], cutoff=CUTOFF, horizon=timedelta(days=30))
    assert truth["o1"].attended == {ids["ev"], ids["listed"]}
    _, truth, _ = replay.replay([*lines(), *extra], cutoff=CUTOFF, horizon=timedelta(days=60))
    assert truth["o1"].attended == set(ids.values())


def test_unreadable_lines_are_counted_not_fatal() -> None:
    report = evaluate.run(
        [*lines(), "{not json", '{"type": "nope"}'], cutoff=CUTOFF, horizon=timedelta(days=30)
    )
    assert report["unreadable_lines"] == 2


def test_several_cutoffs_pool_the_rankings_of_each() -> None:
    first, second = CUTOFF - timedelta(days=1), CUTOFF
    horizon = timedelta(days=30)
    pooled = evaluate.run(lines(), cutoff=[second, first], horizon=horizon)
    assert pooled["cutoffs"] == [first.isoformat(), second.isoformat()]  # in time order
    alone = [evaluate.run(lines(), cutoff=c, horizon=horizon) for c in (first, second)]
    assert set(pooled["kinds"]) == set(alone[0]["kinds"]) | set(alone[1]["kinds"])
    for kind, result in pooled["kinds"].items():
        parts = [a["kinds"][kind] for a in alone if kind in a["kinds"]]
        assert result["rankings"] == sum(p["rankings"] for p in parts)
        assert result["owners"] == (1 if result["rankings"] else 0)  # the same owner twice
        for ranker, metrics in result["rankers"].items():
            weighted = sum(p["rankers"][ranker]["ndcg@10"] * p["rankings"] for p in parts)
            assert metrics["ndcg@10"] == pytest.approx(weighted / result["rankings"], abs=1e-3)
    assert pooled["kinds"]["reconnect"]["rankings"] == 2
    with pytest.raises(ValueError, match="no cut-off"):
        evaluate.run(lines(), cutoff=[], horizon=horizon)


def test_the_command_takes_several_cutoffs(tmp_path) -> None:
    import json
    import subprocess

    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines()) + "\n")
    first, second = CUTOFF - timedelta(days=1), CUTOFF
    command = [sys.executable, "-m", "services.cli", "evaluate", "--input", str(data)]
    out = subprocess.run(
        [*command, "--cutoff", second.isoformat(), "--cutoff", first.isoformat(), "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(out.stdout)
    assert report["cutoffs"] == [first.isoformat(), second.isoformat()]
    assert report["kinds"]["reconnect"]["rankings"] == 2


def run_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``springboard evaluate`` in this process (the command as the console script runs
    it; the test above runs it as a process of its own)."""
    from typer.testing import CliRunner

    from services.cli import app

    result = CliRunner().invoke(app, ["evaluate", *arguments])
    return subprocess.CompletedProcess(
        ["springboard", "evaluate", *arguments], result.exit_code, result.stdout, result.stderr
    )


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--cutoff", "2026-11-01"], "has no time zone"),
        (["--cutoff", "2026-11-01T00:00:00+00:00", "--horizon", "36"], "not an amount with a unit"),
        (["--cutoff", "2026-11-01T00:00:00+00:00", "--horizon", "5m"], "not an amount with a unit"),
        (["--cutoff", "yesterday"], "not an ISO time"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(tmp_path, arguments, said) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines()) + "\n")
    result = run_command("--input", str(data), *arguments)
    assert result.returncode == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("content", [None, b"", b"not json\n{}\n", b"\x00\xff\xfe binary"])
def test_a_missing_file_or_one_without_a_readable_line_gets_one_line_and_exit_2(
    tmp_path, content
) -> None:
    data = tmp_path / "data.jsonl"
    if content is not None:
        data.write_bytes(content)
    result = run_command("--input", str(data), "--cutoff", "2026-11-01T00:00:00+00:00")
    assert result.returncode == 2
    assert str(data) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_the_report_counts_outcomes_outside_the_candidates_and_owners_left_out() -> None:
    """Cy is met for the first time after the cut-off without being linked to anyone: an
    introduction no candidate covers. An owner with no GoalsSet is never recognised."""
    me = "me@example.com"
    later = CUTOFF + timedelta(days=5)
    meeting = MeetingRecorded(
        external_id="first-with-dee",
        starts_at=later,
        organizer_email=me,
        attendees=[Attendee(email=me), Attendee(email="dee@x.example")],
    )
    stranger = ContactUpserted(external_id="x", full_name="X", emails=["x@x.example"])
    extra = [
        encode(wrap(meeting, owner_id="o1", source="test", time=later)).decode(),
        encode(wrap(stranger, owner_id="o2", source="test", time=CUTOFF)).decode(),
    ]
    report = evaluate.run([*lines(), *extra], cutoff=CUTOFF, horizon=timedelta(days=30))
    assert report["owners_not_recognised"] == ["o2"]
    reconnect = report["kinds"]["reconnect"]
    assert reconnect["outcomes"] == 1
    assert reconnect["outcomes_outside_candidates"] == 0
    notes = evaluate.notes(report)
    assert any("never recognised" in line and "o2" in line for line in notes)
