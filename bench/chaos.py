"""Chaos run: the three services as processes on the real broker and PostgreSQL, under a
steady input load, each killed (SIGKILL) at random moments and restarted.

``python -m bench.chaos [--json] [--quick]`` prints:
- kills: how many times a service was killed;
- inputs: valid contacts sent; lost: those missing from ingest's store at the end;
- invalid: malformed messages sent; dead_lettered: those found in dead-letter topics;
- suggestions: suggestion messages published; duplicates: ids published more than once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlmodel import select

from bench import report
from bench.processes import POSTGRES, ServiceProcess, drop_schema, service_env
from services.ingest.models import IngestPersonKey
from shared import database, topics
from shared.broker import ensure_topics
from shared.client import Producer
from shared.embedded_broker import EmbeddedBroker
from shared.sample_network import generate
from shared.settings import KafkaSettings

SERVICES = ("ingest", "recommender", "notifier")


async def read_all(kafka: KafkaSettings, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        kafka.topic_prefix + topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out = []
    try:
        while batches := await consumer.getmany(timeout_ms=3000):
            out += [r for rs in batches.values() for r in rs]
    finally:
        await consumer.stop()
    return out


async def measure(quick: bool) -> dict[str, Any]:
    rng = random.Random(5)
    schema = f"sb_chaos_{uuid.uuid4().hex[:8]}"
    owners = [f"chaos-{i}" for i in range(4 if quick else 10)]
    with EmbeddedBroker() as broker:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="chaos.")
        await ensure_topics(kafka)
        env = service_env(
            kafka,
            SPRINGBOARD_DATABASE__URL=POSTGRES,
            SPRINGBOARD_DATABASE__SCHEMA_NAME=schema,
            SPRINGBOARD_DEBOUNCE_SECONDS="1",
        )
        processes = {name: ServiceProcess(name, env) for name in SERVICES}
        sent: list[tuple[str, str]] = []
        invalid: list[bytes] = []
        kills = 0
        try:
            messages = []
            for owner in owners:
                network = generate(owner_id=owner, seed=hash(owner) % 1000, scale=0.1)
                messages += network.messages
            rng.shuffle(messages)
            raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
            await raw.start()
            deadline = time.monotonic() + (40 if quick else 90)
            next_kill = time.monotonic() + rng.uniform(2, 5)
            async with Producer(kafka) as producer:
                for index, (topic, envelope) in enumerate(messages):
                    await producer.send(topic, envelope)
                    if topic == topics.CONTACTS:
                        sent.append(
                            (envelope.owner_id, f"{envelope.source}:{envelope.data.external_id}")
                        )
                    if index % 50 == 0:
                        bad = f'{{"broken": {index}'.encode()
                        invalid.append(bad)
                        await raw.send_and_wait(
                            kafka.topic_prefix + topics.CONTACTS,
                            bad,
                            key=envelope.owner_id.encode(),
                        )
                        await producer.flush()
                        await asyncio.sleep(0.2)  # a steady trickle, not one burst
                    if time.monotonic() >= next_kill:
                        victim = rng.choice(SERVICES)
                        processes[victim].kill()
                        processes[victim] = ServiceProcess(victim, env)
                        kills += 1
                        next_kill = time.monotonic() + rng.uniform(2, 5)
            await raw.stop()
            while kills < 10 or time.monotonic() < deadline:  # keep killing while it settles
                await asyncio.sleep(rng.uniform(2, 5))
                if kills < 10:
                    victim = rng.choice(SERVICES)
                    processes[victim].kill()
                    processes[victim] = ServiceProcess(victim, env)
                    kills += 1
            engine = database.make_engine(POSTGRES, schema_name=schema)
            lost: set[tuple[str, str]] = set(sent)
            for _ in range(60):  # let the pipeline drain after the last kill
                with database.transaction(engine) as session:
                    keys = {
                        (k.owner_id, k.value)
                        for k in session.exec(
                            select(IngestPersonKey).where(IngestPersonKey.kind == "source")
                        )
                    }
                lost = set(sent) - keys
                if not lost:
                    break
                await asyncio.sleep(2)
            engine.dispose()
            # The last re-scoring and publications, after the last restart: until every
            # owner has suggestions (at most a minute), then a little longer for the rest.
            for _ in range(30):
                suggestions = await read_all(kafka, topics.SUGGESTIONS)
                if {r.key.decode() for r in suggestions} >= set(owners):
                    break
            await asyncio.sleep(5)
            suggestions = await read_all(kafka, topics.SUGGESTIONS)
            ids = [json.loads(r.value)["data"]["suggestion_id"] for r in suggestions]
            letters = await read_all(kafka, topics.dead_letter(topics.CONTACTS))

            dead = {
                base64.b64decode(json.loads(r.value)["data"]["original_value_b64"]) for r in letters
            }
        finally:
            for process in processes.values():
                process.kill()
            drop_schema(schema)
    return {
        "kills": kills,
        "inputs": len(sent),
        "lost": len(lost),
        "invalid": len(invalid),
        "dead_lettered": sum(1 for b in invalid if b in dead),
        "suggestions": len(ids),
        "duplicates": len(ids) - len(set(ids)),
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
