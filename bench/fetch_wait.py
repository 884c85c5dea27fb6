"""How long a record waits for a consumer whose fetch is already waiting, on the embedded broker.

``python -m bench.fetch_wait [--json] [--quick]`` prints, for fetch waits of 50, 100 and
500 ms, the median and the longest delay (ms) from producing a record at a random moment
to a plain aiokafka consumer receiving it: what the fetch wait adds to each hop. A broker
that answers a waiting fetch as soon as data arrives gives a few milliseconds whatever the
wait; one that answers at the end of the wait gives half of it at the median.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import report
from shared.broker import ensure_topics
from shared.embedded_broker import EmbeddedBroker
from shared.settings import KafkaSettings

WAITS_MS = (50, 100, 500)


async def delays_ms(bootstrap: str, wait_ms: int, records: int, rng: random.Random) -> list[float]:
    topic = f"fetchwait{uuid.uuid4().hex[:8]}"
    await ensure_topics(KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=""), [topic])
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=topic,
        fetch_max_wait_ms=wait_ms,
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():  # joined: fetches are waiting from now on
            await asyncio.sleep(0.05)
        await consumer.getmany(timeout_ms=wait_ms * 2)
        delays = []
        for index in range(records):
            # A random moment, so the record lands anywhere within a waiting fetch.
            await asyncio.sleep(rng.uniform(0.05, 0.05 + wait_ms / 1000))
            started = time.perf_counter()
            await producer.send_and_wait(topic, b"{}", key=str(index).encode())
            if not await consumer.getmany(timeout_ms=2 * wait_ms + 5000):
                raise RuntimeError(f"a record produced did not arrive within {wait_ms} ms + 5 s")
            delays.append((time.perf_counter() - started) * 1000)
        return delays
    finally:
        await producer.stop()
        await consumer.stop()


async def measure(quick: bool) -> dict[str, Any]:
    rng = random.Random(7)
    results: dict[str, Any] = {}
    with EmbeddedBroker() as broker:
        for wait_ms in WAITS_MS:
            delays = await delays_ms(broker.bootstrap_servers, wait_ms, 10 if quick else 40, rng)
            results[f"delay_ms_median_wait_{wait_ms}"] = round(statistics.median(delays), 1)
            results[f"delay_ms_max_wait_{wait_ms}"] = round(max(delays), 1)
    return results


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
