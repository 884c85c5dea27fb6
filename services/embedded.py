"""The whole system in one process: the embedded broker and the three services.

Used by ``springboard demo`` and the end-to-end tests. Each service is its own ASGI app
with its own registry, served by its own uvicorn server on a loopback port; signals are
left to the caller, which stops everything in order (services, then the broker).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from services.ingest.main import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.notifier.main import create_app as create_notifier
from services.notifier.settings import NotifierSettings
from services.recommender.main import create_app as create_recommender
from services.recommender.settings import RecommenderSettings
from shared.broker import ensure_topics
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.http_guard import server_options
from shared.settings import DatabaseSettings, KafkaSettings

logger = logging.getLogger("springboard.embedded")


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the embedding program."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningService:
    name: str
    port: int
    server: _QuietServer
    task: asyncio.Task[None]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class EmbeddedSystem:
    """Starts and stops the broker and the three services; an async context manager."""

    data_dir: Path
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    bootstrap_servers: str | None = None
    topic_prefix: str = ""
    ready_timeout: float = 90.0
    service_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    broker: EmbeddedBroker | None = None
    services: list[RunningService] = field(default_factory=list)

    @property
    def kafka(self) -> KafkaSettings:
        servers = self.bootstrap_servers or (self.broker.bootstrap_servers if self.broker else "")
        return KafkaSettings(
            bootstrap_servers=servers, topic_prefix=self.topic_prefix, batch_max_records=500
        )

    def _settings(self, name: str, cls: type[Any]) -> Any:
        overrides = self.service_overrides.get(name, {})
        port = overrides.get("http_port") or free_port()
        values: dict[str, Any] = {
            "kafka": self.kafka,
            "database": self.database,
            "data_dir": self.data_dir,
            "http_port": port,
            "log_level": "WARNING",
        }
        if name == "notifier":  # its page links to itself and hands uploads to ingest
            values["public_url"] = f"http://127.0.0.1:{port}"
            values["ingest_url"] = self.service("ingest").url
        return cls(**{**values, **overrides})

    async def start(self) -> EmbeddedSystem:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.bootstrap_servers is None:
            self.broker = EmbeddedBroker(log_file=self.data_dir / "broker.log")
            await asyncio.to_thread(self.broker.start)
        await ensure_topics(self.kafka)
        factories = (
            ("ingest", create_ingest, IngestSettings),
            ("recommender", create_recommender, RecommenderSettings),
            ("notifier", create_notifier, NotifierSettings),
        )
        for name, factory, settings_cls in factories:
            settings = self._settings(name, settings_cls)
            config = uvicorn.Config(
                factory(settings),
                host="127.0.0.1",
                port=settings.http_port,
                log_level="warning",
                lifespan="on",
                **server_options(settings),
            )
            server = _QuietServer(config)
            task = asyncio.create_task(server.serve(), name=f"springboard-{name}")
            self.services.append(RunningService(name, settings.http_port, server, task))
        await self.wait_ready()
        return self

    async def wait_ready(self) -> None:
        """Until every service's consumer group has its partitions (bounded)."""
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            for service in self.services:
                while True:
                    if service.task.done():
                        service.task.result()  # re-raises why it stopped
                        raise RuntimeError(f"{service.name} stopped during start-up")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"{service.url}/ready")).status_code == 200:
                            break
                    if asyncio.get_running_loop().time() > deadline:
                        raise TimeoutError(f"{service.name} not ready after {self.ready_timeout}s")
                    await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Services first (they commit their last offsets), then the broker, whatever happens."""
        try:
            for service in self.services:
                service.server.should_exit = True
            for service in self.services:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(service.task), 15)
                if not service.task.done():
                    service.task.cancel()
            self.services.clear()
        finally:
            if self.broker is not None:
                self.broker.stop()
                self.broker = None

    def service(self, name: str) -> RunningService:
        return next(s for s in self.services if s.name == name)

    async def __aenter__(self) -> EmbeddedSystem:
        try:
            return await self.start()
        except BaseException:
            await self.stop()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
