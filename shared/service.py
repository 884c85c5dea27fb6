"""A service instance, composed: its settings, metrics registry, broker and publisher, and
the parts with one job each that every service has in common:

- ``consumer`` (``shared.consumer``): handlers subscribed to batches, retries, dead letters;
- ``database`` (``shared.service_database``): the engine and a unit of work per batch;
- ``partitions`` (``shared.partitions``): what this instance is assigned, and its lag;
- ``/health`` and ``/ready`` (``shared.health``), ``/metrics``, and the AsyncAPI documents.

A service's ``main.create_app`` builds one ``ServiceRuntime``, includes its router and
returns ``runtime.asgi_app()``. Nothing happens at import, and each runtime owns its own
``CollectorRegistry``, so several services can share one process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from typing import Any, Generic, TypeVar

from faststream.asgi import AsgiFastStream, AsyncAPIRoute
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, make_asgi_app
from sqlmodel import SQLModel

from shared import health
from shared.broker import Publisher, ensure_topics, make_broker
from shared.consumer import MAX_BACKOFF_SECONDS, BatchConsumer
from shared.database import ServiceDatabase
from shared.partitions import Partitions
from shared.settings import SpringboardSettings
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard")

W = TypeVar("W", bound=UnitOfWork)

GC_THRESHOLDS = (50_000, 20, 20)
"""The garbage collector's generation thresholds in a running service (Python: 700, 10, 10)."""


class PrefixedAsgi(AsgiFastStream):
    """FastStream's ASGI app, which routes exact paths only, with whole subtrees too (the
    owner's page under ``/me``)."""

    prefixes: tuple[tuple[str, Any], ...] = ()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for prefix, app in self.prefixes:
                if path == prefix or path.startswith(prefix + "/"):
                    await app(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def tune_garbage_collector() -> None:
    """Set the collector up as a running service has it, once start-up is done.

    What start-up loaded (modules, schemas, models) lives as long as the process: frozen,
    the collector stops walking it on every full collection. A batch allocates many
    short-lived objects (records, envelopes, ORM rows), nearly all freed by reference
    counting when it ends: collecting the young generation every 10,000 allocations rather
    than 700, and the older ones less often, saved about a quarter of the services' CPU
    under load. Every 50,000: a batch of 1,000 inputs peaks below that, so ingest's 82
    young collections in ``bench.batch_path`` (0.22-0.38 of its 3.1-3.9 CPU-seconds) fall
    to one.
    """
    gc.collect()  # garbage frozen now would never be freed
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class ServiceRuntime(Generic[W]):
    """One service instance; ``unit`` is the unit of work its batches are applied in."""

    def __init__(
        self,
        name: str,
        settings: SpringboardSettings,
        tables: Sequence[type[SQLModel]],
        unit: type[W],
    ) -> None:
        self.name = name
        self.settings = settings
        self.prefix = settings.kafka.topic_prefix
        self.registry = CollectorRegistry()
        self.broker: KafkaBroker = make_broker(
            settings.kafka,
            client_id=f"springboard-{name}",
            max_batch_size=settings.kafka.producer_batch_bytes,
            middlewares=[
                KafkaPrometheusMiddleware(
                    registry=self.registry,
                    app_name=f"springboard-{name}",
                    metrics_prefix="springboard",
                )
            ],
        )
        self.publisher = Publisher(self.broker, self.prefix)
        self.consumer = BatchConsumer(name, settings.kafka, self.publisher, self.registry)
        self.database = ServiceDatabase(name, settings, tables, unit)
        self.partitions = Partitions(name, self.broker, self.prefix, self.registry)
        self._background: list[asyncio.Task[None]] = []

    def router(self) -> KafkaRouter:
        return KafkaRouter(prefix=self.prefix)

    async def until_up(self, what: str, attempt: Callable[[], Awaitable[Any]]) -> None:
        """Retry ``attempt`` with exponential backoff (capped) until it succeeds."""
        failures = 0
        while True:
            try:
                await attempt()
                return
            except Exception as error:  # connection refused, timeouts, DNS, auth…
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(failures, 6))
                logger.warning(
                    "%s: %s not reachable (%s); retrying in %.1fs",
                    self.name,
                    what,
                    error,
                    delay,
                    extra={"service": self.name},
                )
                await asyncio.sleep(delay)

    def spawn(self, coroutine: Awaitable[None]) -> None:
        """Run a background loop for the app's lifetime (cancelled at shutdown)."""
        self._background.append(asyncio.ensure_future(coroutine))

    async def stop_background(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()

    def asgi_app(
        self,
        *,
        on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        after_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        asgi_routes: Sequence[tuple[str, Any]] = (),
        prefixed: Sequence[tuple[str, Any]] = (),
    ) -> AsgiFastStream:
        """The service's HTTP app: health, readiness, metrics, the AsyncAPI documents, the
        exact paths of ``asgi_routes``, and every path under each prefix of ``prefixed``."""
        runtime = self

        async def startup() -> None:
            # A database or broker that is not up yet is waited for, not a crash.
            await runtime.until_up("database", lambda: asyncio.to_thread(runtime.database.open))
            await runtime.until_up("broker", lambda: ensure_topics(runtime.settings.kafka))
            for hook in on_startup:
                await hook()

        async def watch_lag() -> None:
            runtime.spawn(runtime.partitions.measure_lag())

        async def tune_garbage_collection() -> None:
            tune_garbage_collector()

        async def shutdown() -> None:
            await runtime.stop_background()
            runtime.database.close()

        app = PrefixedAsgi(
            self.broker,
            asgi_routes=[
                *health.routes(self),
                ("/metrics", make_asgi_app(registry=self.registry)),
                *asgi_routes,
            ],
            on_startup=[startup],
            after_startup=[watch_lag, *after_startup, tune_garbage_collection],
            on_shutdown=[shutdown],
            logger=logging.getLogger(f"springboard.{self.name}"),
            specification=AsyncAPI(
                title=f"Springboard {self.name}",
                version=version("springboard"),
                description=f"Topics the {self.name} service consumes and publishes.",
            ),
            # The documents, read-only: FastStream's "try it out" would publish to the broker.
            asyncapi_path=AsyncAPIRoute("/docs", try_it_out_path=None),
        )
        app.prefixes = tuple(prefixed)
        app.springboard_runtime = self  # type: ignore[attr-defined]  # for tests and tools
        return app
