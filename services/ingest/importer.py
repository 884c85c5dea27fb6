"""``springboard import``: parse a file or feed, report every problem, publish raw input.

Envelope ids are derived from the owner, the source and each item's content key, so
importing the same file twice publishes the same messages and changes nothing twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from services.ingest.parsers import attendees, csv_formats, ics, vcard
from services.ingest.parsers.common import Item, Parsed, printable
from shared import topics
from shared.client import Producer
from shared.messages import wrap
from shared.settings import KafkaSettings

NAMESPACE = uuid.UUID("9a7f3d4e-2b1c-4e5f-8a9b-0c1d2e3f4a5b")
KIND_OF_TOPIC = {
    topics.CONTACTS: "contacts",
    topics.MEETINGS: "meetings",
    topics.EVENTS: "events",
    topics.ATTENDANCE: "attendance",
}


class ImportKind(StrEnum):
    ics = "ics"
    vcard = "vcard"
    csv = "csv"
    attendees = "attendees"


SHOWN_PER_KIND = 5
"""Problems of one kind listed before the rest are only counted (125 dotless attendee
addresses in one real export said the same thing 125 times)."""


@dataclass
class Summary:
    """What an import did: counts by kind, and every item it did not (fully) take."""

    source: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    more: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(severity, kind) -> how many more problems of that kind were not listed."""
    published: int = 0
    unchanged: bool = False

    def add(self, item: Item) -> None:
        if isinstance(item, Parsed):
            self.counts[KIND_OF_TOPIC[item.topic]] += 1
            return
        listed = {"rejected": self.rejected, "warning": self.warnings, "skipped": self.skipped}
        key = (item.severity, item.kind or "")
        if item.kind is not None:
            self._seen[key] += 1
            if self._seen[key] > SHOWN_PER_KIND:
                self.more[key] += 1
                return
        listed[item.severity].append({"line": item.line, "reason": printable(item.reason)})

    def __post_init__(self) -> None:
        self._seen: Counter[tuple[str, str]] = Counter()

    @property
    def found(self) -> int:
        """How many inputs the source gave (published, or would be on a dry run)."""
        return sum(self.counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "unchanged": self.unchanged,
            "counts": {k: self.counts.get(k, 0) for k in KIND_OF_TOPIC.values()},
            "rejected": self.rejected,
            "warnings": self.warnings,
            "skipped": self.skipped,
            "not_listed": [
                {"severity": severity, "kind": kind, "count": n}
                for (severity, kind), n in sorted(self.more.items())
            ],
            "published": self.published,
        }


def parse(
    kind: ImportKind,
    chunks: Iterable[bytes],
    *,
    fmt: str | None = None,
    mapping: Path | None = None,
    event_id: str | None = None,
    zone: str = "Europe/Stockholm",
    now: datetime | None = None,
    me: Sequence[str] = (),
    events: bool = False,
) -> Iterator[Item]:
    now = now or datetime.now(UTC)
    if kind is ImportKind.ics:
        return ics.parse(chunks, now=now, zone=zone, me=me, events=events)
    if kind is ImportKind.vcard:
        return vcard.parse(chunks)
    if kind is ImportKind.attendees:
        return attendees.parse(chunks, event_id=event_id)
    chosen = csv_formats.generic_format(mapping) if mapping is not None else None
    if fmt and fmt not in csv_formats.FAMILIES:
        names = ", ".join(csv_formats.FAMILIES)
        raise ValueError(f"unknown format {fmt!r}; one of {names} or --mapping")
    return csv_formats.parse(chunks, fmt=chosen, fmt_name=fmt, source_name=f"import:{kind.value}")


def message_id(owner_id: str, source: str, item: Parsed) -> str:
    key = str(
        getattr(item.data, "external_id", None) or getattr(item.data, "event_external_id", "")
    )
    extra = str(getattr(item.data, "email", ""))
    return str(uuid.uuid5(NAMESPACE, "|".join((owner_id, source, item.topic, key, extra))))


async def run(
    items: Iterable[Item],
    *,
    owner_id: str,
    source: str,
    summary: Summary,
    kafka: KafkaSettings | None,
) -> Summary:
    """Count and report every item; publish the parsed ones unless this is a dry run."""
    now = datetime.now(UTC)
    if summary.dry_run or kafka is None:
        for item in items:
            summary.add(item)
        return summary
    async with Producer(kafka) as producer:
        for item in items:
            summary.add(item)
            if isinstance(item, Parsed):
                envelope = wrap(
                    item.data,
                    owner_id=owner_id,
                    source=source,
                    time=now,
                    message_id=message_id(owner_id, source, item),
                )
                await producer.send(item.topic, envelope)
    summary.published = producer.confirmed
    return summary
