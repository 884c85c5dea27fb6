"""The services' publisher writes record batches: every record lands on the partition
aiokafka's own ``send`` would choose, in order within it, with the usual headers; batches
that fill up and records too large to batch change none of that."""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from shared import topics
from shared.broker import BATCHED_UP_TO, Publisher, ensure_topics, make_broker
from shared.messages import DeadLettered, wrap
from shared.settings import KafkaSettings
from tests.conftest import unique

pytestmark = pytest.mark.integration


TOPIC = topics.dead_letter(topics.CONTACTS)


def letter(owner: str, index: int, size: int) -> object:
    """A dead letter (the one message that carries bytes of any size) of about ``size``."""
    return wrap(
        DeadLettered(
            original_topic=topics.CONTACTS,
            partition=0,
            offset=index,
            original_key=owner,
            original_value_b64="A" * size,
            service="test",
            reason="test",
            failed_at=datetime(2026, 11, 28, tzinfo=UTC),
        ),
        owner_id=owner,
        source="test",
        time=datetime(2026, 11, 28, tzinfo=UTC),
        message_id=f"{owner}-{index}",
        correlation_id=f"input-{index}" if index % 2 else None,
    )


async def read(bootstrap: str, topic: str, count: int) -> list[object]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[object] = []
    try:
        for _ in range(60):  # a minute at most: a lost record fails the count below
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records += batch
            if len(records) >= count:
                break
    finally:
        await consumer.stop()
    return records


def test_records_keep_their_partition_order_and_headers(kafka_bootstrap: str) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=unique("pub") + ".")
    owners = [f"owner-{i}" for i in range(9)]
    # 16 KiB producer batches: 300 records of about 1.2 KB fill several per partition; two
    # records over the batching limit go one at a time, in their place.
    sent = [(owners[i % len(owners)], i, 1200) for i in range(300)]
    sent[40] = (sent[40][0], 40, BATCHED_UP_TO + 10)
    sent[41] = (sent[41][0], 41, 10)
    sent[200] = (sent[200][0], 200, BATCHED_UP_TO * 2)

    async def scenario() -> list[object]:
        await ensure_topics(kafka, [TOPIC])
        broker = make_broker(kafka, client_id="test", max_batch_size=16 * 1024)
        await broker.start()
        try:
            published = await Publisher(broker, kafka.topic_prefix).publish_all(
                (topics.dead_letter(topics.CONTACTS), letter(o, i, size)) for o, i, size in sent
            )
            assert published == len(sent)
        finally:
            await broker.stop()
        return await read(kafka_bootstrap, kafka.topic_prefix + TOPIC, len(sent))

    records = asyncio.run(scenario())
    assert len(records) == len(sent)
    partitions = sorted({r.partition for r in records})  # type: ignore[attr-defined]
    every = list(range(kafka.partitions))
    by_partition: dict[int, list[str]] = collections.defaultdict(list)
    for record in records:
        key = record.key  # type: ignore[attr-defined]
        assert record.partition == DefaultPartitioner()(key, every, every)  # type: ignore[attr-defined]
        headers = dict(record.headers)  # type: ignore[attr-defined]
        assert headers["content-type"] == b"application/json"
        assert headers["ce-type"] == DeadLettered.TYPE.encode()
        index = int(headers["correlation_id"].split(b"-")[-1])
        assert (
            headers["correlation_id"]
            == (f"input-{index}" if index % 2 else f"{key.decode()}-{index}").encode()
        )
        by_partition[record.partition].append(index)  # type: ignore[attr-defined]
    assert len(partitions) > 1
    for partition, indices in by_partition.items():
        expected = [
            i for o, i, _ in sent if DefaultPartitioner()(o.encode(), every, every) == partition
        ]
        assert indices == expected, partition
