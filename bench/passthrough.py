"""One hop of the raw passthrough chain: aiokafka consume -> JSON decode -> JSON encode ->
produce, one commit per batch. The practical limit of a Python service on this broker.

``python -m bench.passthrough BOOTSTRAP GROUP SOURCE TARGET COUNT`` prints ``ready`` once
its partitions are assigned and ``done`` once it forwarded COUNT messages.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.settings import KafkaSettings

SERVICES = KafkaSettings()  # the services' client settings, defaults as shipped


async def hop(bootstrap: str, group: str, source: str, target: str, count: int) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=SERVICES.batch_max_records,
        fetch_max_wait_ms=SERVICES.fetch_max_wait_ms,
        max_partition_fetch_bytes=SERVICES.partition_fetch_bytes,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=SERVICES.producer_batch_bytes
    )
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=50)
        print("ready", flush=True)
        done = 0
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=SERVICES.batch_max_records)
            futures = []
            for records in batches.values():
                for record in records:
                    body = json.dumps(json.loads(record.value)).encode()
                    futures.append(await producer.send(target, body, key=record.key))
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(futures)
        print("done", flush=True)
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    bootstrap, group, source, target, count = sys.argv[1:6]
    asyncio.run(hop(bootstrap, group, source, target, int(count)))


if __name__ == "__main__":
    main()
