"""The partitions a service instance is assigned, the owners they carry, and its lag."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Gauge

_PARTITIONER = DefaultPartitioner()
LAG_EVERY_SECONDS = 5.0


class Partitions:
    def __init__(
        self, name: str, broker: KafkaBroker, prefix: str, registry: CollectorRegistry
    ) -> None:
        self.broker = broker
        self.prefix = prefix
        self.consumer_lag = Gauge(
            f"springboard_{name}_consumer_lag_messages",
            "Messages on a partition this instance has not consumed yet.",
            ["topic", "partition"],
            registry=registry,
        )

    def _consumers(self) -> Iterator[Any]:
        for subscriber in self.broker.subscribers:
            yield getattr(subscriber, "consumer", None)

    def assigned(self) -> int:
        """How many partitions this instance holds (0 until every subscriber has some)."""
        total = 0
        for consumer in self._consumers():
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
        for consumer in self._consumers():
            if consumer is None:
                continue
            mine = {p.partition for p in consumer.assignment() if p.topic == name}
            every = consumer.partitions_for_topic(name)
            if not mine or not every:
                continue
            partitions = sorted(every)
            return [k for k in keys if _PARTITIONER(k.encode(), partitions, partitions) in mine]
        return []

    async def lags(self) -> dict[tuple[str, int], int]:
        """(topic, partition) -> messages not consumed yet, for this instance's partitions."""
        lags: dict[tuple[str, int], int] = {}
        for consumer in self._consumers():
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
        return sum((await self.lags()).values())

    async def measure_lag(self) -> None:
        """Consumer lag per assigned partition, as a gauge, every few seconds."""
        while True:
            for (topic, partition), lag in (await self.lags()).items():
                self.consumer_lag.labels(topic, str(partition)).set(lag)
            await asyncio.sleep(LAG_EVERY_SECONDS)
