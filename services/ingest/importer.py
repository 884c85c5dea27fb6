"""``springboard import``: parse a file or feed, report every problem, publish raw input.

Envelope ids are derived from the owner, the source and each item's content key, so
importing the same file twice publishes the same messages and changes nothing twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from services.ingest.parsers import attendees, csv_formats, ics, vcard
from services.ingest.parsers.common import Item, Parsed
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


@dataclass
class Summary:
    """What an import did: counts by kind, and every item it did not (fully) take."""

    source: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    published: int = 0
    unchanged: bool = False

    def add(self, item: Item) -> None:
        if isinstance(item, Parsed):
            self.counts[KIND_OF_TOPIC[item.topic]] += 1
        elif item.severity == "rejected":
            self.rejected.append({"line": item.line, "reason": item.reason})
        else:
            self.warnings.append({"line": item.line, "reason": item.reason})

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "unchanged": self.unchanged,
            "counts": {k: self.counts.get(k, 0) for k in KIND_OF_TOPIC.values()},
            "rejected": self.rejected,
            "warnings": self.warnings,
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
) -> Iterator[Item]:
    now = now or datetime.now(UTC)
    if kind is ImportKind.ics:
        return ics.parse(chunks, now=now, zone=zone)
    if kind is ImportKind.vcard:
        return vcard.parse(chunks)
    if kind is ImportKind.attendees:
        return attendees.parse(chunks, event_id=event_id)
    chosen = None
    if mapping is not None:
        chosen = csv_formats.generic_format(mapping)
    elif fmt:
        chosen = next((f for f in csv_formats.FORMATS if f.name == fmt), None)
        if chosen is None:
            names = sorted({f.name for f in csv_formats.FORMATS})
            raise ValueError(f"unknown format {fmt!r}; one of {', '.join(names)} or --mapping")
    return csv_formats.parse(chunks, fmt=chosen, source_name=f"import:{kind.value}")


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
