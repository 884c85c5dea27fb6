"""A batch's offsets are committed behind the work: only once what it published is
confirmed, in the order the batches were read; a batch whose confirmations fail stops every
later commit, and rewinding reads again from its first record. On the real broker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.broker import ensure_topics
from shared.commits import CommitsBehind
from shared.settings import KafkaSettings
from tests.conftest import unique

pytestmark = pytest.mark.integration


async def consumer_with_records(bootstrap: str, count: int) -> tuple[AIOKafkaConsumer, list[Any]]:
    """A group's consumer of a new one-partition topic holding ``count`` records, all read."""
    topic = unique("commits.")
    await ensure_topics(KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=""), [topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for index in range(count):
            await producer.send_and_wait(topic, b"%d" % index, key=b"owner", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=unique("group-"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    for _ in range(60):
        for batch in (await consumer.getmany(timeout_ms=1000)).values():
            records += batch
        if len(records) >= count:
            break
    assert len(records) == count
    return consumer, records


def test_commits_wait_for_confirmations_and_keep_the_order(kafka_bootstrap: str) -> None:
    async def scenario() -> list[int | None]:
        consumer, records = await consumer_with_records(kafka_bootstrap, 6)
        partition = TopicPartition(records[0].topic, 0)
        loop = asyncio.get_running_loop()
        first, second = loop.create_future(), loop.create_future()
        commits = CommitsBehind(consumer, "test")
        try:
            commits.after(records[:3], [first])
            commits.after(records[3:], [second])
            seen = []
            second.set_result(None)  # the later batch is confirmed first: it must wait
            await asyncio.sleep(0.5)
            seen.append(await consumer.committed(partition))
            first.set_result(None)
            await commits.settle()
            seen.append(await consumer.committed(partition))
            return [*seen, records[-1].offset + 1]
        finally:
            await consumer.stop()

    before, after, expected = asyncio.run(scenario())
    assert before is None
    assert after == expected


def test_a_failed_confirmation_stops_later_commits_and_rewinding_reads_it_again(
    kafka_bootstrap: str,
) -> None:
    async def scenario() -> tuple[int | None, bool, list[int], list[int]]:
        consumer, records = await consumer_with_records(kafka_bootstrap, 6)
        partition = TopicPartition(records[0].topic, 0)
        loop = asyncio.get_running_loop()
        confirmations = [loop.create_future() for _ in range(3)]
        commits = CommitsBehind(consumer, "test")
        try:
            for index, confirmation in enumerate(confirmations):
                commits.after(records[2 * index : 2 * index + 2], [confirmation])
            confirmations[0].set_result(None)
            confirmations[1].set_exception(ConnectionError("the broker went away"))
            confirmations[2].set_result(None)
            await commits.settle()
            committed, failed = await consumer.committed(partition), commits.failed
            await commits.rewind([])
            again: list[ConsumerRecord[Any, Any]] = []
            for _ in range(60):
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    again += batch
                if len(again) >= 4:
                    break
            return (
                committed,
                failed and not commits.failed,
                [r.offset for r in records[2:]],
                [r.offset for r in again],
            )
        finally:
            await consumer.stop()

    committed, failed_then_cleared, expected, read_again = asyncio.run(scenario())
    assert committed == expected[0]  # the first batch only
    assert failed_then_cleared
    assert read_again == expected  # from the failed batch on, nothing skipped


def test_rewinding_after_failed_work_reads_the_batch_in_hand_again(kafka_bootstrap: str) -> None:
    async def scenario() -> tuple[int | None, list[int], list[int]]:
        consumer, records = await consumer_with_records(kafka_bootstrap, 4)
        partition = TopicPartition(records[0].topic, 0)
        confirmed = asyncio.get_running_loop().create_future()
        confirmed.set_result(None)
        commits = CommitsBehind(consumer, "test")
        try:
            commits.after(records[:2], [confirmed])
            await commits.rewind(records[2:])  # their work failed
            again: list[ConsumerRecord[Any, Any]] = []
            for _ in range(60):
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    again += batch
                if len(again) >= 2:
                    break
            return (
                await consumer.committed(partition),
                [r.offset for r in records[2:]],
                [r.offset for r in again],
            )
        finally:
            await consumer.stop()

    committed, expected, read_again = asyncio.run(scenario())
    assert committed == expected[0]  # the batch before it was fine, and committed
    assert read_again == expected
