"""The services' subscribers hand records over as soon as a poll finds them, and never
sleep after a poll that found none (FastStream's own batch subscriber does)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.structs import TopicPartition
from faststream.kafka.subscriber import usecase

from shared.broker import Decoded, Rejected
from shared.service import ServiceRuntime
from shared.settings import KafkaSettings, SpringboardSettings
from shared.unit_of_work import UnitOfWork


def record(partition: int, offset: int) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord("t", partition, offset, 0, 0, b"o1", b"{}", None, 2, 2, [])


class FakeConsumer:
    """Answers each ``getmany`` with the next of ``answers`` and records how it was asked."""

    def __init__(self, *answers: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []

    async def getmany(self, **kwargs: Any) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        self.asked.append(kwargs)
        return self.answers.pop(0)


async def nothing(_batch: list[Decoded]) -> list[Rejected]:
    return []


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep FastStream's subscriber module takes."""
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        taken.append(seconds)

    monkeypatch.setattr(usecase.anyio, "sleep", sleep)
    return taken


async def test_a_service_subscriber_polls_again_at_once_after_an_empty_poll(
    sleeps: list[float],
) -> None:
    settings = SpringboardSettings(kafka=KafkaSettings(batch_timeout_ms=40, batch_max_records=7))
    runtime = ServiceRuntime("poll", settings, [], UnitOfWork)
    router = runtime.router()
    runtime.consumer.subscribe(router, "t", title="t", process=nothing)
    runtime.broker.include_router(router)
    (subscriber,) = runtime.broker.subscribers
    first, second, third = record(0, 5), record(0, 6), record(1, 2)
    consumer = FakeConsumer(
        {}, {TopicPartition("t", 0): [first, second], TopicPartition("t", 1): [third]}
    )

    assert await subscriber.get_msg(consumer) == ()
    assert await subscriber.get_msg(consumer) == (first, second, third)
    assert sleeps == []
    assert consumer.asked == [{"timeout_ms": 40, "max_records": 7}] * 2
