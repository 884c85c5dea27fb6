"""What every service has in common: metrics registry, broker, database, health and readiness.

A service's ``main.create_app`` builds one ``ServiceRuntime``, includes its router and
returns ``runtime.asgi_app()``. Nothing happens at import, and each runtime owns its own
``CollectorRegistry``, so several services can share one process.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from importlib.metadata import version
from typing import Any, TypeVar

from aiokafka.partitioner import DefaultPartitioner
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, AsgiResponse, AsyncAPIRoute, get
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, make_asgi_app
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from shared import database
from shared.broker import (
    Decoded,
    Publisher,
    Rejected,
    decode_records,
    ensure_topics,
    make_broker,
    poll_without_sleeping,
    reject,
)
from shared.settings import SpringboardSettings

logger = logging.getLogger("springboard")

MAX_BACKOFF_SECONDS = 30.0
GC_THRESHOLDS = (50_000, 20, 20)
"""The garbage collector's generation thresholds in a running service (Python: 700, 10, 10)."""
_PARTITIONER = DefaultPartitioner()

T = TypeVar("T")
R = TypeVar("R")


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


async def _records_undecoded(_message: StreamMessage[Any]) -> None:
    """The handler validates each record itself (``decode_records``): FastStream's own
    decoding would parse every record of a batch a second time."""
    return None


class ServiceRuntime:
    """One service instance: its settings, registry, broker, publisher and database engine."""

    def __init__(
        self, name: str, settings: SpringboardSettings, tables: Sequence[type[SQLModel]]
    ) -> None:
        self.name = name
        self.settings = settings
        self.tables = tables
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
        self._engine: Engine | None = None
        self._failures = 0
        self._background: list[asyncio.Task[None]] = []
        self.dead_letters = Counter(
            f"springboard_{name}_dead_letters_total",
            "Messages refused and sent to a dead-letter topic.",
            ["topic", "reason"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            f"springboard_{name}_consumer_lag_messages",
            "Messages on a partition this instance has not consumed yet.",
            ["topic", "partition"],
            registry=self.registry,
        )

    # -- Kafka ---------------------------------------------------------------

    @property
    def group_id(self) -> str:
        return f"{self.prefix}springboard-{self.name}"

    def consume(
        self,
        router: KafkaRouter,
        *topic_names: str,
        title: str,
        process: Callable[[list[Decoded]], Awaitable[list[Rejected]]],
    ) -> Any:
        """Subscribe ``process`` to batches of validated envelopes from ``topic_names``.

        Records that fail validation, and those ``process`` rejects, go to dead-letter
        topics. Offsets are committed only after ``process`` returned (its effects are
        durable); if it raises, the batch is read again after a backoff.
        """

        subscriber = router.subscriber(
            *topic_names,
            group_id=self.group_id,
            batch=True,
            max_records=self.settings.kafka.batch_max_records,
            fetch_max_wait_ms=self.settings.kafka.fetch_max_wait_ms,
            max_partition_fetch_bytes=self.settings.kafka.partition_fetch_bytes,
            batch_timeout_ms=self.settings.kafka.batch_timeout_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_records_undecoded,
            title=title,
        )
        poll_without_sleeping(subscriber)

        @subscriber
        async def handler(msg: KafkaMessage) -> None:
            raw = msg.raw_message
            records = raw if isinstance(raw, tuple) else (raw,)

            async def work() -> None:
                good, bad = decode_records(records, prefix=self.prefix, service=self.name)
                failed = await process(good)
                await self.dead_letter(bad + failed)

            await self.retrying(work)

        return handler

    def router(self) -> KafkaRouter:
        return KafkaRouter(prefix=self.prefix)

    def assigned_partitions(self) -> int:
        total = 0
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                return 0
            assignment = consumer.assignment()
            if not assignment:
                return 0
            total += len(assignment)
        return total

    def owned_keys(self, topic: str, keys: Sequence[str]) -> list[str]:
        """The keys whose partition of ``topic`` this instance is assigned (Kafka's default
        partitioner, as producers key by owner): each instance of a consumer group acts for
        its own owners only. Nothing while the group is rebalancing."""
        name = self.prefix + topic
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            mine = {p.partition for p in consumer.assignment() if p.topic == name}
            every = consumer.partitions_for_topic(name)
            if not mine or not every:
                continue
            partitions = sorted(every)
            return [k for k in keys if _PARTITIONER(k.encode(), partitions, partitions) in mine]
        return []

    async def dead_letter(self, rejected: list[Rejected]) -> None:
        for item in rejected:
            self.dead_letters.labels(item.topic, item.category).inc()
            letter = item.dead_letter
            logger.warning(
                "%s: dead-lettered a message from %s: %s",
                self.name,
                item.topic,
                letter.data.reason,
                extra={
                    "owner_id": letter.owner_id,
                    "topic": item.topic,
                    "service": self.name,
                    "message_id": f"{letter.data.partition}:{letter.data.offset}",
                },
            )
        await self.publisher.dead_letter(rejected)

    # -- Database ------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError(f"{self.name}: the database is opened when the app starts")
        return self._engine

    def open_database(self) -> Engine:
        if self._engine is None:
            engine = database.make_engine(
                self.settings.database_url(self.name),
                schema_name=self.settings.database.schema_name,
                echo=self.settings.database.echo,
            )
            try:
                database.create_tables(engine, self.tables)
            except Exception:
                engine.dispose()
                raise
            self._engine = engine  # only once its tables exist
        return self._engine

    async def in_transaction(self, work: Callable[[Session], T]) -> T:
        return await database.in_transaction(self.engine, work)

    async def apply_batch(
        self,
        batch: list[Decoded],
        apply: Callable[[Session, list[Decoded]], list[R]],
    ) -> tuple[list[R], list[Rejected]]:
        """Apply a batch in one transaction; if it fails on its data, isolate the culprit.

        A database that is down (``database.is_outage``) fails the whole batch, to be
        retried. Any other error, a record the database refuses included (an id too long
        for its index), replays the batch one message per transaction, so the message that
        cannot be applied is dead-lettered and the rest go through. Neither the log nor the
        dead letter's reason carries the records' data: the error's type says what failed.
        """
        try:
            return await self.in_transaction(lambda s: apply(s, batch)), []
        except Exception as error:
            if database.is_outage(error):
                raise
            logger.error(
                "%s: batch of %d failed (%s); applying one by one",
                self.name,
                len(batch),
                _error_kind(error),
            )
        results: list[R] = []
        rejected: list[Rejected] = []
        for item in batch:
            try:
                results += await self.in_transaction(partial(_apply_one, apply, item))
            except Exception as error:
                if database.is_outage(error):
                    raise
                rejected.append(
                    reject(
                        item.record,
                        topic=item.topic,
                        service=self.name,
                        reason=f"could not be applied: {_error_kind(error)}",
                        category="unapplied",
                    )
                )
        return results, rejected

    # -- Failure handling ----------------------------------------------------

    async def retrying(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run a batch's work; on failure wait with exponential backoff, then re-raise.

        Re-raising makes FastStream seek back (no offset committed), so the batch is read
        again after the wait instead of in a tight loop.
        """
        try:
            await work()
        except Exception:
            self._failures += 1
            delay = min(MAX_BACKOFF_SECONDS, 0.2 * 2 ** min(self._failures, 10))
            logger.exception(
                "%s: batch failed (%d in a row), retrying in %.1fs",
                self.name,
                self._failures,
                delay,
            )
            await asyncio.sleep(delay)
            raise
        self._failures = 0

    async def partition_lags(self) -> dict[tuple[str, int], int]:
        """(topic, partition) -> messages not consumed yet, for this instance's partitions."""
        lags: dict[tuple[str, int], int] = {}
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None:
                    continue
                try:
                    position = await consumer.position(partition)
                except Exception:  # rebalancing: measured next time
                    continue
                topic = partition.topic.removeprefix(self.prefix)
                lags[(topic, partition.partition)] = max(highwater - position, 0)
        return lags

    async def unread_messages(self) -> int:
        return sum((await self.partition_lags()).values())

    async def measure_lag(self) -> None:
        """Consumer lag per assigned partition, as a gauge, every few seconds."""
        while True:
            for (topic, partition), lag in (await self.partition_lags()).items():
                self.consumer_lag.labels(topic, str(partition)).set(lag)
            await asyncio.sleep(5.0)

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

    # -- The app -------------------------------------------------------------

    def readiness(self) -> dict[str, Any]:
        partitions = self.assigned_partitions()
        database_ok = self._engine is not None and database.ping(self._engine)
        return {
            "service": self.name,
            "ready": partitions > 0 and database_ok and self._failures == 0,
            "assigned_partitions": partitions,
            "database": "ok" if database_ok else "unavailable",
            "consecutive_failures": self._failures,
        }

    def asgi_app(
        self,
        *,
        on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        after_startup: Sequence[Callable[[], Awaitable[None]]] = (),
        asgi_routes: Sequence[tuple[str, Any]] = (),
    ) -> AsgiFastStream:
        runtime = self

        @get(include_in_schema=False)
        async def health(_scope: Any) -> AsgiResponse:
            alive = await runtime.broker.ping(timeout=3.0)
            body = json.dumps({"service": runtime.name, "broker": "ok" if alive else "unreachable"})
            return AsgiResponse(
                body.encode(), 200 if alive else 503, {"content-type": "application/json"}
            )

        @get(include_in_schema=False)
        async def ready(_scope: Any) -> AsgiResponse:
            state = await asyncio.to_thread(runtime.readiness)
            broker_ok = await runtime.broker.ping(timeout=2.0)
            state["broker"] = "ok" if broker_ok else "unreachable"
            state["ready"] = state["ready"] and broker_ok
            return AsgiResponse(
                json.dumps(state).encode(),
                200 if state["ready"] else 503,
                {"content-type": "application/json"},
            )

        async def startup() -> None:
            # A database or broker that is not up yet is waited for, not a crash.
            await runtime.until_up("database", lambda: asyncio.to_thread(runtime.open_database))
            await runtime.until_up("broker", lambda: ensure_topics(runtime.settings.kafka))
            for hook in on_startup:
                await hook()

        async def watch_lag() -> None:
            runtime.spawn(runtime.measure_lag())

        async def tune_garbage_collection() -> None:
            tune_garbage_collector()

        async def shutdown() -> None:
            for task in runtime._background:
                task.cancel()
            await asyncio.gather(*runtime._background, return_exceptions=True)
            runtime._background.clear()
            if runtime._engine is not None:
                runtime._engine.dispose()
                runtime._engine = None

        app = AsgiFastStream(
            self.broker,
            asgi_routes=[
                ("/health", health),
                ("/ready", ready),
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
        app.springboard_runtime = self  # type: ignore[attr-defined]  # for tests and tools
        return app


def _error_kind(error: BaseException) -> str:
    """What failed, without the data it failed on: the error's type, and the database's
    own error class and SQLSTATE when it is one (never the statement or its parameters)."""
    original = getattr(error, "orig", None)
    if original is not None:
        state = getattr(original, "sqlstate", None)
        return f"{type(original).__name__}" + (f" (SQLSTATE {state})" if state else "")
    return type(error).__name__


def _apply_one(
    apply: Callable[[Session, list[Decoded]], list[R]], item: Decoded, session: Session
) -> list[R]:
    return apply(session, [item])
