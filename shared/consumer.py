"""The consumer loop of a service: batches of validated envelopes to its handler, what it
refuses to dead-letter topics, and a failed batch read again after a backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaMessage, KafkaRouter
from faststream.message import StreamMessage
from prometheus_client import CollectorRegistry, Counter

from shared.broker import Decoded, Publisher, Rejected, decode_records
from shared.fast_paths import poll_without_sleeping
from shared.settings import KafkaSettings

logger = logging.getLogger("springboard")

MAX_BACKOFF_SECONDS = 30.0

Process = Callable[[list[Decoded]], Awaitable[list[Rejected]]]
"""A handler: the batch's valid envelopes in, the ones it could not apply out."""


async def _records_undecoded(_message: StreamMessage[Any]) -> None:
    """The handler validates each record itself (``decode_records``): FastStream's own
    decoding would parse every record of a batch a second time."""
    return None


class BatchConsumer:
    """Subscribes handlers to topics in the service's consumer group, and keeps count of
    batches failed in a row (readiness reports it)."""

    def __init__(
        self,
        name: str,
        kafka: KafkaSettings,
        publisher: Publisher,
        registry: CollectorRegistry,
    ) -> None:
        self.name = name
        self.kafka = kafka
        self.publisher = publisher
        self.failures = 0
        self.dead_letters = Counter(
            f"springboard_{name}_dead_letters_total",
            "Messages refused and sent to a dead-letter topic.",
            ["topic", "reason"],
            registry=registry,
        )

    @property
    def group_id(self) -> str:
        return f"{self.kafka.topic_prefix}springboard-{self.name}"

    def subscribe(
        self, router: KafkaRouter, *topic_names: str, title: str, process: Process
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
            max_records=self.kafka.batch_max_records,
            fetch_max_wait_ms=self.kafka.fetch_max_wait_ms,
            max_partition_fetch_bytes=self.kafka.partition_fetch_bytes,
            batch_timeout_ms=self.kafka.batch_timeout_ms,
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
                prefix = self.kafka.topic_prefix
                good, bad = decode_records(records, prefix=prefix, service=self.name)
                failed = await process(good)
                await self.dead_letter(bad + failed)

            await self.retrying(work)

        return handler

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

    async def retrying(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run a batch's work; on failure wait with exponential backoff, then re-raise.

        Re-raising makes FastStream seek back (no offset committed), so the batch is read
        again after the wait instead of in a tight loop.
        """
        try:
            await work()
        except Exception:
            self.failures += 1
            delay = min(MAX_BACKOFF_SECONDS, 0.2 * 2 ** min(self.failures, 10))
            logger.exception(
                "%s: batch failed (%d in a row), retrying in %.1fs",
                self.name,
                self.failures,
                delay,
            )
            await asyncio.sleep(delay)
            raise
        self.failures = 0
