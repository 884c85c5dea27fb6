"""A small Kafka client for feeding input and reading suggestions (CLI, demo, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from shared import topics
from shared.broker import aiokafka_options
from shared.messages import Envelope, encode, envelope_adapter
from shared.settings import KafkaSettings


class BrokerUnavailable(ConnectionError):
    """No broker answered at the configured address; the message names the fix."""

    def __init__(self, kafka: KafkaSettings) -> None:
        super().__init__(
            f"no broker at {kafka.bootstrap_servers}: start it with `springboard up` "
            "(or set SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS)"
        )


async def _start(client: AIOKafkaProducer | AIOKafkaConsumer, kafka: KafkaSettings) -> None:
    """Start a client; a broker that is not there is one ``BrokerUnavailable``, and the
    half-started client is closed (no 'Unclosed' warnings after it)."""
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # it logs each failed attempt; the error says it once
    try:
        await client.start()
    except KafkaConnectionError:
        await client.stop()
        raise BrokerUnavailable(kafka) from None
    finally:
        quiet.setLevel(level)


class Producer:
    """Sends envelopes keyed by owner, confirming them a window at a time (bounded memory)."""

    WINDOW = 1000

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._producer = AIOKafkaProducer(
            linger_ms=5, max_batch_size=kafka.producer_batch_bytes, **aiokafka_options(kafka)
        )
        self._pending: list[asyncio.Future[Any]] = []
        self.confirmed = 0

    async def __aenter__(self) -> Producer:
        await _start(self._producer, self._kafka)
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        try:
            if exc_type is None:
                await self.flush()
        finally:
            await self._producer.stop()

    async def send(self, topic: str, envelope: Envelope[Any]) -> None:
        future = await self._producer.send(
            self._kafka.topic_prefix + topic,
            encode(envelope),
            key=envelope.owner_id.encode(),
            headers=[("content-type", b"application/json")],
        )
        self._pending.append(future)
        if len(self._pending) >= self.WINDOW:
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)
        self.confirmed += len(pending)


async def publish(kafka: KafkaSettings, messages: Iterable[tuple[str, Envelope[Any]]]) -> int:
    """Send envelopes to their topics keyed by owner; returns how many were confirmed."""
    async with Producer(kafka) as producer:
        for topic, envelope in messages:
            await producer.send(topic, envelope)
    return producer.confirmed


class SuggestionReader:
    """Reads the suggestions topic from the beginning, without a consumer group."""

    def __init__(self, kafka: KafkaSettings, topic: str = topics.SUGGESTIONS) -> None:
        self._topic = topic
        self._kafka = kafka
        self._consumer = AIOKafkaConsumer(
            kafka.topic_prefix + topic,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=kafka.fetch_max_wait_ms,
            **aiokafka_options(kafka),
        )

    async def __aenter__(self) -> SuggestionReader:
        await _start(self._consumer, self._kafka)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def read(self, timeout: float) -> list[Envelope[Any]]:
        """Whatever arrives within ``timeout`` seconds (possibly nothing)."""
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000))
        adapter = envelope_adapter(self._topic)
        return [
            adapter.validate_json(record.value)
            for records in batches.values()
            for record in records
        ]

    async def collect(
        self, *, owner_id: str | None, want: int, timeout: float, quiet: float = 3.0
    ) -> list[Envelope[Any]]:
        """Until ``want`` messages (for ``owner_id``, or anyone's) arrived, or none arrived
        for ``quiet`` seconds after the first, or ``timeout`` passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[Envelope[Any]] = []
        last = None
        while len(found) < want and loop.time() < deadline:
            got = [e for e in await self.read(0.25) if owner_id is None or e.owner_id == owner_id]
            if got:
                found += got
                last = loop.time()
            elif last is not None and loop.time() - last > quiet:
                break
        return found
