"""PostgreSQL refusing connections, at start-up and in the middle of work: ingest waits,
says it is not ready, commits nothing it has not applied, and recovers by itself."""

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
from shared.broker import ensure_topics
from shared.client import publish
from shared.embedded_broker import free_port
from shared.settings import DatabaseSettings, KafkaSettings
from tests.conftest import unique
from tests.outage_helpers import at_least, contacts, equals, eventually, logged

pytestmark = pytest.mark.integration


class TcpProxy:
    """A loopback TCP proxy in front of PostgreSQL that can refuse connections at will."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def accept(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()


async def test_ingest_waits_for_postgres_and_recovers_from_an_outage(
    kafka_bootstrap: str, postgres: DatabaseSettings, tmp_path
) -> None:
    if not postgres.url:
        pytest.skip("needs PostgreSQL")
    proxy = TcpProxy()
    url = postgres.url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=unique("out-"))
    await ensure_topics(kafka)
    settings = IngestSettings(
        kafka=kafka,
        data_dir=tmp_path,
        http_port=free_port(),
        database=DatabaseSettings(url=url, schema_name=postgres.schema_name),
    )
    server = _QuietServer(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.http_port, log_level="critical"
        )
    )
    base = f"http://127.0.0.1:{settings.http_port}"
    owner = unique("outage-")
    engine = database.make_engine(postgres.url, schema_name=postgres.schema_name)

    async def stored() -> int:
        def count() -> int:
            with database.transaction(engine, IngestWork) as session:
                return len(
                    session.exec(select(IngestPerson).where(IngestPerson.owner_id == owner)).all()
                )

        return await asyncio.to_thread(count)

    async with httpx.AsyncClient(timeout=3) as client:

        async def ready() -> int:
            try:
                return (await client.get(f"{base}/ready")).status_code
            except httpx.HTTPError:
                return 0

        with logged("database not reachable") as retries:
            task = asyncio.create_task(server.serve())  # PostgreSQL refuses: start-up waits

            async def retried_twice() -> bool:
                return retries.count >= 2

            await eventually(retried_twice, 30)
        try:
            assert not task.done()
            assert not server.started
            await proxy.accept()
            await eventually(lambda: equals(ready(), 200), 90)

            await publish(kafka, contacts(owner, 0, 20))
            await eventually(lambda: at_least(stored(), 20))

            await proxy.refuse()
            await publish(kafka, contacts(owner, 20, 10))
            await eventually(lambda: equals(ready(), 503), 30)
            assert await stored() == 20  # nothing applied while the database is away

            await proxy.accept()
            await eventually(lambda: at_least(stored(), 30), 90)
            await eventually(lambda: equals(ready(), 200), 90)
            assert await stored() == 30
        finally:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 20)
            await proxy.refuse()
            engine.dispose()
