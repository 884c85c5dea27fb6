"""A service's consumer shares each batch among the partitions with a backlog: the owners of
one partition do not wait while another's megabyte of updates is worked through."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.partitioner import DefaultPartitioner

from shared import topics
from shared.broker import Decoded, Rejected, ensure_topics
from shared.client import publish
from shared.messages import wrap
from shared.messages.inputs import ContactUpserted
from shared.service import ServiceRuntime
from shared.settings import KafkaSettings, SpringboardSettings
from tests.conftest import unique

pytestmark = pytest.mark.integration

PARTITIONS = [0, 1, 2, 3]
PER_OWNER = 2_500  # about 1 MB of contacts each: more than one fetch takes from a partition


def owner_on(partition: int, prefix: str) -> str:
    partitioner = DefaultPartitioner()
    for index in range(1_000):
        owner = f"{prefix}{index}"
        if partitioner(owner.encode(), PARTITIONS, PARTITIONS) == partition:
            return owner
    raise AssertionError(f"no owner found for partition {partition}")


async def test_the_first_batch_of_a_backlog_holds_more_than_one_partition(kafka_bootstrap) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=unique("fair") + ".")
    await ensure_topics(kafka, [topics.CONTACTS])
    owners = [owner_on(0, "fair-a"), owner_on(1, "fair-b")]
    await publish(
        kafka,
        (
            (
                topics.CONTACTS,
                wrap(
                    ContactUpserted(
                        external_id=f"c{index}",
                        full_name=f"Contact Number {index}",
                        emails=[f"contact.{index}@example.com"],
                        company="Example Company",
                        title="Head of Finance",
                    ),
                    owner_id=owner,
                    source="test:fairness",
                ),
            )
            for owner in owners
            for index in range(PER_OWNER)
        ),
    )

    runtime = ServiceRuntime("fairness", SpringboardSettings(kafka=kafka), tables=())
    batches: list[set[int]] = []
    first = asyncio.Event()

    async def process(batch: list[Decoded]) -> list[Rejected]:
        batches.append({item.record.partition for item in batch})
        first.set()
        return []

    router = runtime.router()
    runtime.consume(router, topics.CONTACTS, title="fairness", process=process)
    runtime.broker.include_router(router)
    await runtime.broker.start()
    try:
        await asyncio.wait_for(first.wait(), 60)
    finally:
        await runtime.broker.stop()
    assert batches[0] == {0, 1}
