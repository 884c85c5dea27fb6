"""The three services on the real Tansu broker and real PostgreSQL, fed the sample network."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from services.embedded import EmbeddedSystem
from services.ingest.store import IngestWork
from services.recommender.rankers import PRIOR_VERSION
from shared import topics
from shared.client import SuggestionReader, publish
from shared.sample_network import generate
from shared.settings import DatabaseSettings
from tests.conftest import embedded_system, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def system(kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path_factory) -> Any:
    async with embedded_system(kafka_bootstrap, postgres, tmp_path_factory, "e2e") as running:
        yield running


@pytest.fixture(scope="module")
async def delivered(system: EmbeddedSystem) -> dict[str, Any]:
    """Feed the sample network for one owner, plus a malformed message; collect the outcome."""
    owner = unique("owner-")
    network = generate(owner_id=owner, seed=11)
    async with SuggestionReader(system.kafka) as reader:
        await publish(system.kafka, network.messages)
        # A producer that sends garbage on an input topic must not stop anything.
        await _send_raw(system, topics.CONTACTS, owner, b'{"id": "broken", "data": ')
        found = await reader.collect(owner_id=None, want=5, timeout=180, quiet=20)
    return {"owner": owner, "network": network, "suggestions": found}


async def _send_raw(system: EmbeddedSystem, topic: str, key: str, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=system.kafka.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(system.kafka.topic_prefix + topic, value, key=key.encode())
    finally:
        await producer.stop()


async def test_suggestions_of_three_kinds_with_reasons_arrive_for_the_sample_owner(
    delivered,
) -> None:
    mine = [e for e in delivered["suggestions"] if e.owner_id == delivered["owner"]]
    assert len(mine) >= 5
    assert len({e.data.kind for e in mine}) >= 3
    for envelope in mine:
        suggestion = envelope.data
        assert suggestion.reasons
        assert all(r.strip() for r in suggestion.reasons)
        assert suggestion.model_version == PRIOR_VERSION
        assert envelope.id == suggestion.suggestion_id
    assert len({e.data.suggestion_id for e in mine}) == len(mine)


async def test_suggestions_carry_the_correlation_id_of_an_input_that_led_to_them(delivered) -> None:
    inputs = {e.id for _, e in delivered["network"].messages}
    for envelope in delivered["suggestions"]:
        assert envelope.correlation_id in inputs


async def test_the_asyncapi_documents_are_served_without_a_publishing_try_it_out(system) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service in system.services:
            assert (await client.get(f"{service.url}/docs.json")).status_code == 200
            assert (await client.post(f"{service.url}/docs/try", json={})).status_code == 404


async def test_suggestions_name_only_people_and_events_of_that_owners_network(delivered) -> None:
    network = delivered["network"]
    names = {p.name for p in network.contacts + network.strangers}
    titles = {e.data.title for t, e in network.messages if t == topics.EVENTS}
    for envelope in delivered["suggestions"]:
        assert envelope.data.subject_name in names | titles


async def test_nothing_arrives_for_an_owner_who_sent_nothing(delivered, system) -> None:
    silent = unique("silent-")
    async with SuggestionReader(system.kafka) as reader:
        seen = await reader.collect(owner_id=silent, want=1, timeout=3, quiet=1)
    assert seen == []
    assert {e.owner_id for e in delivered["suggestions"]} == {delivered["owner"]}


async def test_a_malformed_message_lands_in_the_dead_letter_topic_with_its_reason(
    delivered, system
) -> None:
    consumer = AIOKafkaConsumer(
        system.kafka.topic_prefix + topics.dead_letter(topics.CONTACTS),
        bootstrap_servers=system.kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=10_000)
    finally:
        await consumer.stop()
    letters = [json.loads(r.value) for rs in batches.values() for r in rs]
    [letter] = [x["data"] for x in letters if x["owner_id"] == delivered["owner"]]
    assert base64.b64decode(letter["original_value_b64"]) == b'{"id": "broken", "data": '
    assert letter["service"] == "ingest"
    assert "json" in letter["reason"].lower()


async def test_replaying_the_same_input_publishes_no_new_suggestion(delivered, system) -> None:
    owner = delivered["owner"]
    again = [(t, e) for t, e in delivered["network"].messages if t == topics.CONTACTS][:20]
    async with SuggestionReader(system.kafka) as reader:
        before = await reader.collect(owner_id=owner, want=10_000, timeout=5, quiet=2)
        await publish(system.kafka, again)
        after = await reader.collect(owner_id=owner, want=1, timeout=12, quiet=10)
    assert len(before) == len(delivered["suggestions"])
    assert after == []


async def test_every_service_is_healthy_ready_and_counts_its_work(delivered, system) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for service in system.services:
            assert (await client.get(f"{service.url}/health")).status_code == 200
            ready = (await client.get(f"{service.url}/ready")).json()
            assert ready["ready"]
            assert ready["assigned_partitions"] > 0
        ingest = (await client.get(f"{system.service('ingest').url}/metrics")).text
        notifier = (await client.get(f"{system.service('notifier').url}/metrics")).text
    assert "springboard_ingest_dead_letters_total" in ingest
    sent = sum(
        float(line.split()[-1])
        for line in notifier.splitlines()
        if line.startswith("springboard_notifier_suggestions_total{")
    )
    assert sent == len(delivered["suggestions"])


@pytest.mark.usefixtures("delivered")  # metrics once the pipeline has run
async def test_every_services_metrics_pass_promtool(system) -> None:
    from tests.observability import promtool

    async with httpx.AsyncClient(timeout=5) as client:
        for service in system.services:
            text = (await client.get(f"{service.url}/metrics")).text
            result = promtool("check", "metrics", stdin=text)
            assert result.returncode == 0, f"{service.name}: {result.stdout}{result.stderr}"


async def test_a_real_prometheus_scrapes_the_services_and_sees_the_suggestions(
    delivered, system, tmp_path
) -> None:
    import asyncio
    import subprocess

    import yaml

    from shared.embedded_broker import free_port
    from tests.observability import tool

    port = free_port()
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": f"springboard-{s.name}",
                "static_configs": [{"targets": [f"127.0.0.1:{s.port}"]}],
            }
            for s in system.services
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    server = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"
    sent = len(delivered["suggestions"])
    try:
        async with httpx.AsyncClient(timeout=5) as client:

            async def query(expr: str) -> list:
                try:
                    return (await client.get(api, params={"query": expr})).json()["data"]["result"]
                except (httpx.HTTPError, KeyError, ValueError):
                    return []

            seen: list = []
            for _ in range(60):
                seen = await query("sum(springboard_notifier_suggestions_total)")
                up = await query('up{job=~"springboard-.*"} == 1')
                if seen and float(seen[0]["value"][1]) == sent and len(up) == 3:
                    break
                await asyncio.sleep(1)
            assert seen
            assert float(seen[0]["value"][1]) == sent
            assert len(await query('up{job=~"springboard-.*"} == 1')) == 3
            inputs = await query('sum(springboard_ingest_inputs_total{outcome="applied"})')
            assert float(inputs[0]["value"][1]) >= len(delivered["network"].messages)
    finally:
        server.terminate()
        server.wait(10)


async def test_an_erase_request_clears_every_store_and_each_service_confirms(
    delivered, system, postgres
) -> None:
    import asyncio

    from sqlmodel import select

    from services.ingest.models import IngestPerson
    from services.notifier.models import NotifySuggestion
    from services.recommender.models import RecPerson
    from shared import database
    from shared.client import publish
    from shared.messages import wrap
    from shared.messages.inputs import ErasePerson

    owner = delivered["owner"]
    network = delivered["network"]
    reconnect = next(e.data for e in delivered["suggestions"] if e.data.kind.value == "reconnect")
    person = next(p for p in network.contacts if p.name == reconnect.subject_name)
    request = wrap(ErasePerson(email=person.email), owner_id=owner, source="app:privacy")
    await publish(system.kafka, [(topics.ERASURE, request)])

    confirmed: dict[str, dict] = {}
    consumer = AIOKafkaConsumer(
        system.kafka.topic_prefix + topics.ERASURE_CONFIRMATIONS,
        bootstrap_servers=system.kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        for _ in range(60):
            batches = await consumer.getmany(timeout_ms=1000)
            for record in (r for rs in batches.values() for r in rs):
                letter = json.loads(record.value)
                if letter["data"]["request_id"] == request.id:
                    confirmed[letter["data"]["service"]] = letter["data"]
            if len(confirmed) == 3:
                break
    finally:
        await consumer.stop()
    assert set(confirmed) == {"ingest", "recommender", "notifier"}
    erased = confirmed["ingest"]["person_ids"]
    assert erased
    assert all(c["person_ids"] == erased for c in confirmed.values())
    if not postgres.url:
        return
    engine = database.make_engine(postgres.url, schema_name=postgres.schema_name)

    def remaining() -> tuple[int, int, int]:
        with database.transaction(engine, IngestWork) as session:
            return (
                len(
                    session.exec(
                        select(IngestPerson).where(
                            IngestPerson.owner_id == owner, IngestPerson.person_id.in_(erased)
                        )
                    ).all()
                ),
                len(
                    session.exec(
                        select(RecPerson).where(
                            RecPerson.owner_id == owner, RecPerson.person_id.in_(erased)
                        )
                    ).all()
                ),
                len(
                    session.exec(
                        select(NotifySuggestion).where(
                            NotifySuggestion.owner_id == owner,
                            NotifySuggestion.subject_id.in_(erased),
                        )
                    ).all()
                ),
            )

    assert await asyncio.to_thread(remaining) == (0, 0, 0)

    def rows_naming(*needles: str) -> list[str]:
        """Every row of every table of every service that still names the person."""
        from sqlalchemy import text

        found = []
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": postgres.schema_name},
            ).scalars()
            for table in list(tables):
                rows = connection.execute(text(f'SELECT t::text FROM "{table}" t'))
                for (row,) in rows:  # this owner's rows (other tests' owners share names)
                    if owner in row and any(needle in row for needle in needles):
                        found.append(f"{table}: {row[:120]}")
        return found

    needles = (*erased, person.email, person.name)
    assert await asyncio.to_thread(rows_naming, *needles) == []
    # Nor does anything the recommender trained hold them: its artefacts keep weights of
    # aggregate features and a hash of the training data, never a person.
    models = system.data_dir / "models"
    for path in models.rglob("*") if models.exists() else []:
        if path.is_file():
            content = path.read_bytes()
            assert not any(n.encode() in content for n in needles), path
    engine.dispose()
