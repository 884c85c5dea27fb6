"""Two recommender instances in one consumer group share the owners: each owner's network
is scored by the instance that holds its partition, once, never by both."""

from __future__ import annotations

import asyncio
import collections
import contextlib

import httpx
import pytest
import uvicorn

from services.embedded import _QuietServer
from services.ingest import canonical
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.recommender.main import create_app
from services.recommender.settings import RecommenderSettings
from shared import database, topics
from shared.broker import ensure_topics
from shared.client import SuggestionReader, publish
from shared.contract import CONSUMES
from shared.embedded_broker import free_port
from shared.messages import wrap
from shared.messages.network import NetworkChanges
from shared.sample_network import generate
from shared.settings import DatabaseSettings, KafkaSettings
from tests.conftest import unique

pytestmark = pytest.mark.integration


def network_updates(owner_id: str, seed: int) -> list[tuple[str, object]]:
    """The canonical changes ingest would publish for one owner's sample network."""
    engine = database.make_engine("sqlite://")
    database.create_tables(engine, INGEST_TABLES)
    out: list[tuple[str, object]] = []
    with database.transaction(engine, IngestWork) as session:
        for _topic, envelope in generate(owner_id=owner_id, seed=seed, scale=0.1).messages:
            for change in canonical.apply(
                session, owner_id=owner_id, source=envelope.source, data=envelope.data
            ):
                changes = NetworkChanges(changes=[change])
                out.append((topics.NETWORK_UPDATES, wrap(changes, owner_id=owner_id, source="t")))
    return out


async def ready(port: int) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError("recommender not ready")


async def group_settled(ports: list[int], partitions: int) -> None:
    """Until the instances hold every partition between them, each some: the rebalance
    after the second one joined is over."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            held = []
            for port in ports:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    state = (await client.get(f"http://127.0.0.1:{port}/ready")).json()
                    held.append(state["assigned_partitions"])
            if len(held) == len(ports) and min(held) > 0 and sum(held) == partitions:
                return
            await asyncio.sleep(0.1)
    raise TimeoutError("the consumer group did not settle")


async def test_two_instances_score_each_owner_once(
    kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path
) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=unique("scale-"))
    await ensure_topics(kafka)
    servers, tasks, ports = [], [], []
    for index in range(2):
        settings = RecommenderSettings(
            kafka=kafka,
            database=postgres,
            data_dir=tmp_path / str(index),
            http_port=free_port(),
            debounce_seconds=3.0,  # the whole burst is applied before anyone scores
            log_level="WARNING",
        )
        server = _QuietServer(
            uvicorn.Config(create_app(settings), port=settings.http_port, log_level="warning")
        )
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve()))
        ports.append(settings.http_port)
    try:
        for port in ports:
            await ready(port)
        consumed = len(CONSUMES["recommender"])
        await group_settled(ports, consumed * kafka.partitions)
        owners = [unique("owner-") for _ in range(8)]
        updates = [u for i, owner in enumerate(owners) for u in network_updates(owner, i)]
        async with SuggestionReader(kafka, topics.RECOMMENDATIONS) as reader:
            await publish(kafka, updates)  # type: ignore[arg-type]
            lists = await reader.collect(owner_id=None, want=len(owners), timeout=120, quiet=6)
            # Then a while longer: a second instance scoring the same owners shows up here.
            lists += await reader.collect(owner_id=None, want=10**6, timeout=6)
        # The schema is shared with other tests: owners they left unscored may show up too.
        scored = collections.Counter(e.owner_id for e in lists if e.owner_id in owners)
        assert set(scored) == set(owners)
        assert all(count == 1 for count in scored.values()), scored
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
