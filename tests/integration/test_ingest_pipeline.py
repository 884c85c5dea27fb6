"""Ingest over the real broker and PostgreSQL: webhooks, real files, replays."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import select

from services.ingest import importer
from services.ingest.importer import ImportKind, Summary
from services.ingest.models import IngestMeeting, IngestPerson
from services.ingest.store import IngestWork
from shared import database, topics
from shared.broker import MAX_MESSAGE_BYTES
from shared.client import publish
from shared.messages import encode, wrap
from shared.messages.inputs import Attendee, ContactUpserted, MeetingRecorded
from shared.settings import DatabaseSettings
from shared.signing import sign
from tests.conftest import embedded_system, unique
from tests.real_files import real_files

pytestmark = pytest.mark.integration
SECRET = "integration-secret-of-at-least-32-chars"


@pytest.fixture(scope="module")
async def system(kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path_factory) -> Any:
    async with embedded_system(
        kafka_bootstrap,
        postgres,
        tmp_path_factory,
        "ingest",
        service_overrides={"ingest": {"webhook_secret": SECRET}},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def ingest_db(postgres: DatabaseSettings):
    url = postgres.url or "sqlite://"
    return database.make_engine(url, schema_name=postgres.schema_name)


async def rows(engine, table, owner: str) -> list:
    def query() -> list:
        with database.transaction(engine, IngestWork) as session:
            return list(session.exec(select(table).where(table.owner_id == owner)).all())

    return await asyncio.to_thread(query)


async def settle(engine, table, owner: str, *, at_least: int, timeout: float = 60) -> list:
    """Rows once at least ``at_least`` exist and the count held still for a second."""
    deadline = time.monotonic() + timeout
    last: list = []
    while time.monotonic() < deadline:
        found = await rows(engine, table, owner)
        if len(found) >= at_least and len(found) == len(last):
            return found
        last = found
        await asyncio.sleep(1.0)
    return last


async def import_file(system, kind: ImportKind, path, owner: str) -> Summary:
    with path.open("rb") as handle:
        items = importer.parse(kind, handle)
        summary = Summary(source=str(path), dry_run=False)
        return await importer.run(
            items,
            owner_id=owner,
            source=f"import:{kind.value}",
            summary=summary,
            kafka=system.kafka,
        )


async def test_a_signed_webhook_is_accepted_only_once_on_kafka_and_reaches_the_store(
    system, ingest_db
) -> None:
    owner = unique("wh-")
    payload = encode(
        wrap(
            ContactUpserted(
                external_id="hs-9", full_name="Webhook Person", emails=["webhook.person@x.example"]
            ),
            owner_id=owner,
            source="crm:hubspot",
        )
    )
    now = int(time.time())
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{system.service('ingest').url}/webhooks/crm",
            content=payload,
            headers={
                "X-Springboard-Timestamp": str(now),
                "X-Springboard-Signature": sign(SECRET, now, payload),
            },
        )
        refused = await client.post(
            f"{system.service('ingest').url}/webhooks/crm",
            content=payload,
            headers={"X-Springboard-Timestamp": str(now), "X-Springboard-Signature": "v1=00"},
        )
    assert response.status_code == 202
    assert refused.status_code == 401
    [person] = await settle(ingest_db, IngestPerson, owner, at_least=1)
    assert person.full_name == "Webhook Person"


async def test_real_vcard_and_calendar_files_import_and_a_second_import_changes_nothing(
    system, ingest_db
) -> None:
    owner = unique("files-")
    vcf = next(p for p in real_files("ez-vcard", ".vcf") if p.name == "gmail-list.vcf")
    ics = next(
        p for p in real_files("node-ical", ".ics") if p.name == "tentative-apple-calendar.ics"
    )
    first = await import_file(system, ImportKind.vcard, vcf, owner)
    await import_file(system, ImportKind.ics, ics, owner)
    assert first.counts["contacts"] == 3
    assert first.published == 3
    people = await settle(ingest_db, IngestPerson, owner, at_least=6)
    meetings = await settle(ingest_db, IngestMeeting, owner, at_least=3)
    again = await import_file(system, ImportKind.vcard, vcf, owner)
    await import_file(system, ImportKind.ics, ics, owner)
    assert again.published == 3
    # A marker on each topic, after the second import: once both are stored, everything
    # before them on their topics (one partition per owner) has been applied.
    marker = "marker@x.example"
    await publish(
        system.kafka,
        [
            (
                topics.CONTACTS,
                wrap(
                    ContactUpserted(external_id="marker", full_name="Marker", emails=[marker]),
                    owner_id=owner,
                    source="test",
                ),
            ),
            (
                topics.MEETINGS,
                wrap(
                    MeetingRecorded(
                        external_id="marker",
                        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                        attendees=[Attendee(email=marker)],
                    ),
                    owner_id=owner,
                    source="test",
                ),
            ),
        ],
    )
    after = await settle(ingest_db, IngestMeeting, owner, at_least=len(meetings) + 1)
    assert len(after) == len(meetings) + 1  # the marker's only
    now = await settle(ingest_db, IngestPerson, owner, at_least=len(people) + 1)
    assert sorted(p.person_id for p in now if p.full_name != "Marker") == sorted(
        p.person_id for p in people
    )


async def test_a_malformed_record_near_the_size_limit_is_dead_lettered_whole_and_ingest_goes_on(
    system, ingest_db
) -> None:
    # Base64 makes its dead letter larger than the record, and than Kafka's 1 MiB default:
    # ingest used to retry that batch for ever.
    owner = unique("big-")
    garbage = b'{"id": "broken", "data": "' + b"x" * (MAX_MESSAGE_BYTES - 100)
    prefix = system.kafka.topic_prefix
    producer = AIOKafkaProducer(
        bootstrap_servers=system.kafka.bootstrap_servers, max_request_size=2 * MAX_MESSAGE_BYTES
    )
    await producer.start()
    try:
        await producer.send_and_wait(prefix + topics.CONTACTS, garbage, key=owner.encode())
    finally:
        await producer.stop()
    anna = ContactUpserted(external_id="a", full_name="Anna Berg")
    await publish(system.kafka, [(topics.CONTACTS, wrap(anna, owner_id=owner, source="test"))])
    assert len(await settle(ingest_db, IngestPerson, owner, at_least=1)) == 1  # it went on
    consumer = AIOKafkaConsumer(
        prefix + topics.dead_letter(topics.CONTACTS),
        bootstrap_servers=system.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[Any] = []
    try:
        for _ in range(20):
            records += [r for rs in (await consumer.getmany(timeout_ms=1000)).values() for r in rs]
            if any(r.key == owner.encode() for r in records):
                break
    finally:
        await consumer.stop()
    [letter] = [json.loads(r.value)["data"] for r in records if r.key == owner.encode()]
    assert base64.b64decode(letter["original_value_b64"]) == garbage
