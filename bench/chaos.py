"""Chaos run: the three services as processes on the real broker and PostgreSQL, under a
steady input load, each killed (SIGKILL) at random moments once it is ready, and restarted;
then every input is looked for, end to end, through to deliveries on a real webhook.

``python -m bench.chaos [--json] [--quick]`` prints:
- kills: how many times a service was killed (each once it was ready);
- kinds: per input kind, how many were sent and how many are found in ingest's store
  (contacts by their source id, meetings, events, attendance, favours, goals by owner) and,
  for what the recommender projects, in its store (persons, interactions, events);
- lost: inputs of any kind missing from a store at the end;
- invalid / dead_lettered: malformed messages sent, and those found in dead-letter topics;
- ranked_owners: owners with a ranked list on the recommendations topic;
- suggestions / suggestion_duplicates: suggestions published, ids published more than once;
- deliveries: suggestions POSTed to the owners' webhook, by distinct Idempotency-Key;
  delivery_requests: POSTs in all; delivery_duplicates: POSTs that repeated a key.

Delivery is at least once: a notifier killed after a POST and before it recorded the
delivery POSTs it again when it restarts, with the same Idempotency-Key, which a receiver
uses to process each delivery once. The input set is fixed (seeded, never by hash()).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text

from bench import report
from bench.processes import POSTGRES, ServiceProcess, drop_schema, service_env, wait_ready
from bench.receivers import WebhookReceiver, serving
from services.ingest.canonical import event_id_for
from services.ingest.identity import stable_id
from shared import database, topics
from shared.broker import ensure_topics
from shared.client import Producer
from shared.embedded_broker import EmbeddedBroker
from shared.messages import PreferencesSet, wrap
from shared.sample_network import generate
from shared.settings import KafkaSettings

SERVICES = ("ingest", "recommender", "notifier")
KINDS = {
    topics.CONTACTS: "contacts",
    topics.MEETINGS: "meetings",
    topics.EVENTS: "events",
    topics.ATTENDANCE: "attendance",
    topics.FAVOURS: "favours",
    topics.GOALS: "goals",
}


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


def expected_key(topic: str, envelope: Any) -> tuple[str, ...]:
    """What an input leaves in ingest's store, as the store can be asked for it."""
    owner, data = envelope.owner_id, envelope.data
    if topic == topics.CONTACTS:
        return (owner, f"{envelope.source}:{data.external_id}")
    if topic in (topics.MEETINGS, topics.EVENTS):
        return (owner, data.external_id)
    if topic == topics.ATTENDANCE:
        return (owner, event_id_for(owner, data.event_external_id), data.email.lower())
    if topic == topics.FAVOURS:
        return (owner, stable_id("f", owner, envelope.source, data.external_id))
    return (owner,)  # goals: the owner


def found_in_ingest(connection: Any, schema: str) -> dict[str, set[tuple[str, ...]]]:
    def rows(query: str) -> set[tuple[str, ...]]:
        return {tuple(r) for r in connection.execute(text(query.replace("S.", f'"{schema}".')))}

    return {
        "contacts": rows("SELECT owner_id, value FROM S.ingest_person_key WHERE kind = 'source'"),
        "meetings": rows("SELECT owner_id, external_id FROM S.ingest_meeting"),
        "events": rows("SELECT owner_id, external_id FROM S.ingest_event"),
        "attendance": rows(
            "SELECT a.owner_id, a.event_id, k.value FROM S.ingest_attendance a "
            "JOIN S.ingest_person_key k ON k.owner_id = a.owner_id "
            "AND k.person_id = a.person_id AND k.kind = 'email'"
        ),
        "favours": rows("SELECT owner_id, favour_id FROM S.ingest_favour"),
        "goals": rows("SELECT owner_id FROM S.ingest_owner"),
    }


def projected(connection: Any, schema: str) -> dict[str, tuple[int, int]]:
    """(in ingest, in the recommender) per projected table, all owners together."""
    pairs = {
        "persons": ("ingest_person", "rec_person"),
        "interactions": ("ingest_meeting", "rec_interaction"),
        "events": ("ingest_event", "rec_event"),
    }
    out = {}
    for name, (source, projection) in pairs.items():
        counts = [
            connection.execute(text(f'SELECT count(*) FROM "{schema}".{table}')).scalar_one()
            for table in (source, projection)
        ]
        out[name] = (int(counts[0]), int(counts[1]))
    return out


class Victims:
    """Kills a ready service at random and starts it again, waiting until it is ready."""

    def __init__(self, env: dict[str, str], rng: random.Random) -> None:
        self.env, self.rng = env, rng
        self.processes = {name: ServiceProcess(name, env) for name in SERVICES}
        self.kills = 0

    async def ready(self) -> None:
        await wait_ready(self.processes.values())

    async def kill_one(self) -> None:
        victim = self.rng.choice(SERVICES)
        self.processes[victim].kill()
        self.kills += 1
        self.processes[victim] = ServiceProcess(victim, self.env)
        await wait_ready([self.processes[victim]])  # the next kill lands on a ready service

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()


async def measure(quick: bool) -> dict[str, Any]:
    rng = random.Random(5)
    schema = f"sb_chaos_{uuid.uuid4().hex[:8]}"
    owners = [f"chaos-{i}" for i in range(4 if quick else 10)]
    receiver = WebhookReceiver()
    with EmbeddedBroker() as broker:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, topic_prefix="chaos.")
        await ensure_topics(kafka)
        env = service_env(
            kafka,
            SPRINGBOARD_DATABASE__URL=POSTGRES,
            SPRINGBOARD_DATABASE__SCHEMA_NAME=schema,
            SPRINGBOARD_DEBOUNCE_SECONDS="1",
            SPRINGBOARD_ALLOW_PRIVATE_WEBHOOKS="true",  # the receiver is on loopback
            SPRINGBOARD_BACKOFF_BASE_SECONDS="0.2",
        )
        victims = Victims(env, rng)
        sent: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        invalid: list[bytes] = []
        try:
            async with serving(receiver):
                await victims.ready()
                preferences = [
                    (
                        topics.PREFERENCES,
                        wrap(
                            PreferencesSet(webhook_url=receiver.url, cadence="instant"),
                            owner_id=owner,
                            source="app",
                        ),
                    )
                    for owner in owners
                ]
                messages = []
                for seed, owner in enumerate(owners, start=1):
                    messages += generate(owner_id=owner, seed=seed, scale=0.1).messages
                rng.shuffle(messages)
                raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
                await raw.start()
                next_kill = time.monotonic() + rng.uniform(2, 5)
                async with Producer(kafka) as producer:
                    for topic, envelope in preferences:
                        await producer.send(topic, envelope)
                    for index, (topic, envelope) in enumerate(messages):
                        await producer.send(topic, envelope)
                        if topic in KINDS:
                            sent[KINDS[topic]].add(expected_key(topic, envelope))
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
                            await producer.flush()
                            await victims.kill_one()
                            next_kill = time.monotonic() + rng.uniform(2, 5)
                await raw.stop()
                while victims.kills < 10:  # keep killing while it settles
                    await asyncio.sleep(rng.uniform(2, 5))
                    await victims.kill_one()
                found, projection, lost = await _drain(schema, sent)
                ranked, suggestions = await _outputs(kafka, owners)
                letters = await read_all(kafka, topics.dead_letter(topics.CONTACTS))
        finally:
            victims.stop()
            drop_schema(schema)
    dead = {base64.b64decode(json.loads(r.value)["data"]["original_value_b64"]) for r in letters}
    ids = [json.loads(r.value)["data"]["suggestion_id"] for r in suggestions]
    keys = Counter(r["headers"].get("idempotency-key", "") for r in receiver.requests)
    return {
        "kills": victims.kills,
        "owners": len(owners),
        "kinds": {
            kind: {"sent": len(sent[kind]), "ingest": len(sent[kind] & found[kind])}
            for kind in KINDS.values()
        },
        "projection": {
            name: {"ingest": pair[0], "recommender": pair[1]} for name, pair in projection.items()
        },
        "lost": lost,
        "invalid": len(invalid),
        "dead_lettered": sum(1 for b in invalid if b in dead),
        "ranked_owners": len(ranked),
        "suggestions": len(ids),
        "suggestion_duplicates": len(ids) - len(set(ids)),
        "deliveries": len(keys),
        "delivery_requests": sum(keys.values()),
        "delivery_duplicates": sum(n - 1 for n in keys.values()),
        "duplicated_keys": sorted(k for k, n in keys.items() if n > 1)[:20],
    }


async def _drain(
    schema: str, sent: dict[str, set[tuple[str, ...]]]
) -> tuple[dict[str, set[tuple[str, ...]]], dict[str, tuple[int, int]], int]:
    """Until every input is in ingest's store and the recommender has projected all of it
    (at most two minutes after the last kill)."""
    engine = database.make_engine(POSTGRES, schema_name=schema)
    try:
        for _ in range(60):
            with engine.connect() as connection:
                found = found_in_ingest(connection, schema)
                projection = projected(connection, schema)
            lost = sum(len(sent[kind] - found[kind]) for kind in sent)
            lost += sum(abs(a - b) for a, b in projection.values())
            if not lost:
                break
            await asyncio.sleep(2)
    finally:
        engine.dispose()
    return found, projection, lost


async def _outputs(kafka: KafkaSettings, owners: list[str]) -> tuple[set[str], list[Any]]:
    """Owners with a ranked list, and the suggestions published: until every owner has
    suggestions (at most a minute), then a little longer for the rest."""
    for _ in range(30):
        suggestions = await read_all(kafka, topics.SUGGESTIONS)
        if {r.key.decode() for r in suggestions} >= set(owners):
            break
    await asyncio.sleep(5)
    ranked = {r.key.decode() for r in await read_all(kafka, topics.RECOMMENDATIONS)}
    return ranked, await read_all(kafka, topics.SUGGESTIONS)


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
