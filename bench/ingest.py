"""Ingest throughput on the embedded broker, next to a raw aiokafka passthrough, in one run.

``python -m bench.ingest [--json] [--quick]`` prints:
- ingest_msgs_per_s: sample-network input messages through the ingest service (validate,
  resolve identities, persist in SQLite, publish network updates, commit offsets)
- passthrough_msgs_per_s: the same messages through a raw aiokafka consume -> JSON decode
  -> JSON encode -> produce loop with one commit per batch, on the same broker
- ratio: their quotient
- import_rows_per_s: CSV rows parsed by the importer (an Outlook export, dry run)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from pathlib import Path

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import report
from services.embedded import _QuietServer
from services.ingest.importer import ImportKind, parse
from services.ingest.main import create_app
from services.ingest.settings import IngestSettings
from shared import topics
from shared.broker import ensure_topics
from shared.client import publish
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.sample_network import generate
from shared.settings import KafkaSettings


async def passthrough(kafka: KafkaSettings, source: str, target: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        kafka.topic_prefix + source,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"{kafka.topic_prefix}passthrough",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=1000,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=5)
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        done = 0
        while done < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            futures = []
            for records in batches.values():
                for record in records:
                    body = json.dumps(json.loads(record.value)).encode()
                    futures.append(
                        await producer.send(kafka.topic_prefix + target, body, key=record.key)
                    )
            await asyncio.gather(*futures)
            await consumer.commit()
            done += len(futures)
        return time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()


async def through_ingest(kafka: KafkaSettings, data_dir: Path, count: int) -> float:
    settings = IngestSettings(
        kafka=kafka, data_dir=data_dir, http_port=free_port(), log_level="WARNING"
    )
    server = _QuietServer(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.http_port, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{settings.http_port}"
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            started = time.perf_counter()
            while True:
                text = (await client.get(f"{url}/metrics")).text
                done = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("springboard_ingest_inputs_total{")
                )
                if done >= count:
                    return time.perf_counter() - started
                await asyncio.sleep(0.1)
    finally:
        server.should_exit = True
        await task


def import_rows_per_s(rows: int) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "outlook.csv"
        with path.open("w") as handle:
            handle.write(
                "First Name,Last Name,Company,Job Title,Business Phone,E-mail Address,Business City\n"
            )
            for i in range(rows):
                handle.write(
                    f"Anna{i},Berg,Nordbank AB,CFO,+46 70 123 {i % 100:02d} {i % 97:02d},"
                    f"anna{i}@nordbank.example,Stockholm\n"
                )
        started = time.perf_counter()
        with path.open("rb") as handle:
            parsed = sum(1 for _ in parse(ImportKind.csv, handle))
        elapsed = time.perf_counter() - started
    assert parsed == rows
    return rows / elapsed


async def measure(quick: bool) -> dict[str, float]:
    network = generate(scale=0.3 if quick else 2.0)
    messages = [(t, e) for t, e in network.messages if t in topics.INPUTS]
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        raw = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="raw.")
        await ensure_topics(raw, [topics.CONTACTS, topics.NETWORK_UPDATES])
        await publish(raw, [(topics.CONTACTS, e) for _, e in messages])
        raw_s = await passthrough(raw, topics.CONTACTS, topics.NETWORK_UPDATES, len(messages))

        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="ing.")
        await ensure_topics(kafka)
        await publish(kafka, messages)
        ingest_s = await through_ingest(kafka, Path(scratch), len(messages))
    return {
        "messages": len(messages),
        "ingest_msgs_per_s": round(len(messages) / ingest_s, 1),
        "passthrough_msgs_per_s": round(len(messages) / raw_s, 1),
        "ratio": round(raw_s / ingest_s, 4),
        "import_rows_per_s": round(import_rows_per_s(5_000 if quick else 50_000), 1),
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
