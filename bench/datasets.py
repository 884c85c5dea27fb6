"""Data sets for ``springboard evaluate``, written as JSONL input envelopes.

``python -m bench.datasets simulator --out sim.jsonl [--scale 1] [--owners 1] [--seed 7] [--now ISO]``

simulator: the sample network (``shared.sample_network``); with ``--owners N``, N owners,
each with their own network drawn from seed, seed + 1, …
``python -m bench.datasets davis --out davis.jsonl``

davis: the Southern Women event-attendance data (Davis, Gardner and Gardner, 1941) as
networkx ships it: 18 women, 14 social events. Each woman is an owner whose contacts are
the other women; events are dated two weeks apart in their published order (the data
set carries no dates) and announced three weeks ahead, with their attendee list (as on a
Meetup or Eventbrite page): the others' registrations are known from the announcement,
a woman's own attendance only on the event's day.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.messages import encode, wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    ContactUpserted,
    EventAnnounced,
    GoalsSet,
)
from shared.sample_network import generate

DAVIS_START = datetime(2020, 1, 6, 18, tzinfo=UTC)


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def davis() -> list[Any]:
    import networkx as nx

    graph = nx.davis_southern_women_graph()
    women = sorted(graph.graph["top"])
    events = sorted(graph.graph["bottom"], key=lambda e: int(e[1:]))
    dates = {e: DAVIS_START + timedelta(weeks=2 * i) for i, e in enumerate(events)}
    out = []
    for owner_name in women:
        owner = f"davis-{_slug(owner_name)}"
        own_email = f"{_slug(owner_name)}@davis.example"
        start = DAVIS_START - timedelta(days=30)
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
                    time=dates[event] - timedelta(days=21),
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
                        time=dates[event] if own else dates[event] - timedelta(days=21),
                    )
                )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Write an evaluation data set as JSONL.")
    parser.add_argument("name", choices=["simulator", "davis"])
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
