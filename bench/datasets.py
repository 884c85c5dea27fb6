"""Data sets for ``springboard evaluate``, written as JSONL input envelopes.

``python -m bench.datasets simulator --out sim.jsonl [--scale 1] [--owners 1] [--seed 7] [--now ISO]``

simulator: the sample network (``shared.sample_network``); with ``--owners N``, N owners,
each with their own network drawn from seed, seed + 1, …
``python -m bench.datasets davis --out davis.jsonl``

davis: the Southern Women event-attendance data (Davis, Gardner and Gardner, 1941) as
networkx ships it: 18 women, 14 social events. Each woman is an owner whose contacts are
the other women. networkx carries no dates; each event takes the month and day that head
its column in the published table (``DAVIS_DATES``), in one year, and is announced three
weeks ahead with its attendee list (as on a Meetup or Eventbrite page): the others'
registrations are known from the announcement, a woman's own attendance only on the
event's day.

``python -m bench.datasets hospital --out hospital.jsonl`` (or primary_school, high_school,
conference, workshop, messages): real interaction histories shipped inside installed
packages, converted as ``bench.real_histories`` states, with the cut-offs and horizon to
evaluate them at.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import real_histories
from shared.messages import encode, wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    ContactUpserted,
    EventAnnounced,
    GoalsSet,
)
from shared.sample_network import generate

DAVIS_YEAR = 2020  # the table gives month and day only
# The events' dates as the column headings of Davis, Gardner and Gardner's table (Deep
# South, 1941; reproduced in Freeman, "Finding social groups", 2003), E1 to E14 in the
# table's order, which is not the order in time.
DAVIS_DATES = {
    "E1": (6, 27),
    "E2": (3, 2),
    "E3": (4, 12),
    "E4": (9, 26),
    "E5": (2, 25),
    "E6": (5, 19),
    "E7": (3, 15),
    "E8": (9, 16),
    "E9": (4, 8),
    "E10": (6, 10),
    "E11": (2, 23),
    "E12": (4, 7),
    "E13": (11, 21),
    "E14": (8, 3),
}
DAVIS_ANNOUNCED = timedelta(days=21)


def davis_date(event: str) -> datetime:
    month, day = DAVIS_DATES[event]
    return datetime(DAVIS_YEAR, month, day, 18, tzinfo=UTC)


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def davis() -> list[Any]:
    import networkx as nx

    graph = nx.davis_southern_women_graph()
    women = sorted(graph.graph["top"])
    events = sorted(graph.graph["bottom"], key=davis_date)
    dates = {e: davis_date(e) for e in events}
    out = []
    for owner_name in women:
        owner = f"davis-{_slug(owner_name)}"
        own_email = f"{_slug(owner_name)}@davis.example"
        start = dates[events[0]] - timedelta(days=30)
        out.append(
            wrap(
                GoalsSet(full_name=owner_name, emails=[own_email], country="US"),
                owner_id=owner,
                source="dataset:davis",
                time=start,
            )
        )
        for other in women:
            if other != owner_name:
                out.append(
                    wrap(
                        ContactUpserted(
                            external_id=_slug(other),
                            full_name=other,
                            emails=[f"{_slug(other)}@davis.example"],
                        ),
                        owner_id=owner,
                        source="dataset:davis",
                        time=start,
                    )
                )
        for event in events:
            out.append(
                wrap(
                    EventAnnounced(
                        external_id=event, title=f"Social event {event}", starts_at=dates[event]
                    ),
                    owner_id=owner,
                    source="dataset:davis",
                    time=dates[event] - DAVIS_ANNOUNCED,
                )
            )
            for woman in graph.neighbors(event):
                own = woman == owner_name
                out.append(
                    wrap(
                        AttendanceRecorded(
                            event_external_id=event,
                            email=f"{_slug(woman)}@davis.example",
                            full_name=woman,
                            status="attended" if own else "registered",
                        ),
                        owner_id=owner,
                        source="dataset:davis",
                        time=dates[event] if own else dates[event] - DAVIS_ANNOUNCED,
                    )
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Write an evaluation data set as JSONL.")
    parser.add_argument("name", choices=["simulator", "davis", *real_histories.HISTORIES])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--owners", type=int, default=1)
    parser.add_argument(
        "--now", type=datetime.fromisoformat, default=datetime(2026, 11, 28, tzinfo=UTC)
    )
    args = parser.parse_args()
    if args.name == "davis":
        envelopes = davis()
    elif args.name in real_histories.HISTORIES:
        history = real_histories.HISTORIES[args.name]
        envelopes = real_histories.envelopes(history)
        cutoffs, horizon = real_histories.cutoffs(history)
        print(
            "evaluate with: "
            + " ".join(f"--cutoff {c.isoformat()}" for c in cutoffs)
            + f" --horizon {horizon.total_seconds():.0f}s"
        )
    else:
        envelopes = []
        for index in range(args.owners):
            owner = "maria.lindqvist" if args.owners == 1 else f"owner-{index}"
            network = generate(
                seed=args.seed + index, scale=args.scale, now=args.now, owner_id=owner
            )
            envelopes += [e for _, e in network.messages]
    with args.out.open("wb") as handle:
        for envelope in envelopes:
            handle.write(encode(envelope) + b"\n")
    print(f"wrote {len(envelopes)} envelopes to {args.out}")


if __name__ == "__main__":
    main()
