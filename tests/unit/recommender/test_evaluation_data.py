"""The Southern Women replay: every event after the first ranked once, when announced."""

from __future__ import annotations

from bench import datasets, evaluation
from shared.messages.inputs import AttendanceRecorded, EventAnnounced


def test_each_event_is_upcoming_and_known_at_exactly_one_cutoff() -> None:
    announced = {
        e.data.external_id: (e.time, e.data.starts_at)
        for e in datasets.davis()
        if isinstance(e.data, EventAnnounced)
    }
    assert len(announced) == 14
    horizon = datasets.DAVIS_ANNOUNCED
    first = min(s for _, s in announced.values())
    assert all(c > first for c in evaluation.DAVIS_CUTOFFS)  # history at every cut-off
    for event, (known_at, starts_at) in announced.items():
        if starts_at == first:
            continue
        cutoffs = [
            c
            for c in evaluation.DAVIS_CUTOFFS
            if known_at <= c < starts_at <= c + horizon  # a candidate, and in the horizon
        ]
        assert len(cutoffs) == 1, (event, cutoffs)


def test_a_woman_attends_only_on_the_day_and_the_others_register_at_the_announcement() -> None:
    for envelope in datasets.davis():
        data = envelope.data
        if not isinstance(data, AttendanceRecorded):
            continue
        own = data.email.startswith(envelope.owner_id.removeprefix("davis-") + "@")
        start = datasets.davis_date(data.event_external_id)
        assert (data.status, envelope.time) == (
            ("attended", start) if own else ("registered", start - datasets.DAVIS_ANNOUNCED)
        )
