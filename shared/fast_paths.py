"""The private FastStream and aiokafka interfaces Springboard leans on for speed, fenced.

Each is a measured saving (docs/adr/0003-private-fast-paths.md says which and how much) on
an interface the libraries do not promise to keep. They are all here, and only for the
versions they were written against: an upgrade that moves either library fails at import
with the line to read, rather than slowing down or breaking in a hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from itertools import chain
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber

WRITTEN_FOR = {"faststream": "0.7.", "aiokafka": "0.14."}
"""The release series each fast path was written against and checked on."""


def _check_versions(installed: Callable[[str], str] = version) -> None:
    for package, series in WRITTEN_FOR.items():
        found = installed(package)
        if not found.startswith(series):
            raise ImportError(
                f"shared/fast_paths.py was written for {package} {series}x, found {found}: "
                "check each fast path against the new release, then update WRITTEN_FOR"
            )


_check_versions()


def poll_without_sleeping(subscriber: BatchSubscriber) -> None:
    """Make ``subscriber`` hand over records as soon as its consumer has any.

    FastStream's batch subscriber sleeps as long as it polled after a poll that found
    nothing, so a record arriving in that sleep waits for it to end, at every hop.
    aiokafka's ``getmany`` already returns as soon as records are fetched and waits at most
    its timeout otherwise: without the sleep the timeout only sets how often an idle
    consumer wakes up.
    """
    timeout_ms, max_records = subscriber.batch_timeout_ms, subscriber.max_records

    async def get_msg(consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        fetched = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return tuple(chain.from_iterable(fetched.values()))

    subscriber.get_msg = get_msg  # type: ignore[method-assign]


def started_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """The aiokafka producer FastStream started for ``broker``."""
    producer: AIOKafkaProducer = broker.config.producer._producer.producer  # type: ignore[attr-defined]
    return producer


async def wait_on_metadata(producer: AIOKafkaProducer, topic: str) -> None:
    """What ``send`` does first: know the topic's partitions."""
    await producer.client._wait_on_metadata(topic)


def partition_for(producer: AIOKafkaProducer, topic: str, key: bytes, value: bytes) -> int:
    """The partition ``send`` would choose for this record (its partitioner, the topic's
    metadata as the producer knows it)."""
    partition: int = producer._partition(topic, None, None, None, key, value)
    return partition
