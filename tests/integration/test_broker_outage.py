"""The broker away (paused, as a hung broker looks) at start-up and while working:
ingest waits, says it is not ready, and carries on by itself with nothing lost."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
import uvicorn
from sqlmodel import select

from services.embedded import _QuietServer
from services.ingest.main import create_app
from services.ingest.models import IngestPerson
from services.ingest.settings import IngestSettings
from services.ingest.store import IngestWork
from shared import database
from shared.client import publish
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.settings import KafkaSettings
from tests.conftest import unique
from tests.outage_helpers import at_least, contacts, equals, eventually

pytestmark = pytest.mark.integration


async def test_ingest_waits_for_the_broker_and_recovers_after_it_hangs(tmp_path) -> None:
    owner = unique("hung-")
    with EmbeddedBroker() as broker:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="hung.")
        settings = IngestSettings(kafka=kafka, data_dir=tmp_path, http_port=free_port())
        app = create_app(settings)
        server = _QuietServer(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=settings.http_port,
                log_level="critical",
            )
        )
        base = f"http://127.0.0.1:{settings.http_port}"
        engine = database.make_engine(settings.database_url("ingest"))

        async def stored() -> int:
            def count() -> int:
                with database.transaction(engine, IngestWork) as session:
                    return len(
                        session.exec(
                            select(IngestPerson).where(IngestPerson.owner_id == owner)
                        ).all()
                    )

            try:
                return await asyncio.to_thread(count)
            except Exception:  # tables not created yet
                return 0

        broker.pause()  # hung at start-up
        task = asyncio.create_task(server.serve())
        try:
            async with httpx.AsyncClient(timeout=5) as client:

                async def ready_status() -> int:
                    try:
                        return (await client.get(f"{base}/ready")).status_code
                    except httpx.HTTPError:
                        return 0

                runtime = app.springboard_runtime

                async def waiting_for_the_broker() -> bool:
                    return runtime.database.is_open  # start-up's step before the broker

                await eventually(waiting_for_the_broker, 30)
                assert not task.done()
                assert not server.started  # waiting for the broker, not crashed
                broker.resume()
                await eventually(lambda: equals(ready_status(), 200))
                await publish(kafka, contacts(owner, 0, 10))
                await eventually(lambda: at_least(stored(), 10))

                broker.pause()  # hangs while working
                await eventually(lambda: equals(ready_status(), 503), 30)
                broker.resume()
                await publish(kafka, contacts(owner, 10, 10))
                await eventually(lambda: at_least(stored(), 20))
                await eventually(lambda: equals(ready_status(), 200))
                assert await stored() == 20
        finally:
            broker.resume()
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 20)
            engine.dispose()
