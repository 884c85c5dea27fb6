"""The whole pipeline against the Kafka limit, measured in one run on the embedded broker.

``python -m bench.pipeline [--json] [--quick]`` prints:
- pipeline_msgs_per_s: input messages per second through ingest -> recommender -> notifier,
  the three running as separate processes on PostgreSQL: from the first input published to
  every input applied, every network update projected, every owner scored and every ranked
  list taken by the notifier (committed offsets), the debounce window excluded;
- passthrough_msgs_per_s: the same messages through a chain of three raw aiokafka
  processes (consume -> JSON decode -> JSON encode -> produce, commit per batch), with the
  services' consumer and producer batch sizes;
- pipeline_ratio: their quotient; both figures are medians of five runs, alternated;
- pipeline_ratio_lowest / pipeline_ratio_highest: the quotient of each alternated pair of
  runs, the lowest and the highest: how far this machine's pace swung during the runs;
- latency_ms_p50 / latency_ms_p99: inputs sent at 200 per second, owner after owner; from an
  owner's last input to the publication of its first suggestion, debounce excluded;
- debounce_ms: the recommender's debounce window, excluded above;
- scaleout_ratio: pipeline throughput with two recommender instances in one consumer group
  over one instance;
- cpu_s_ingest, cpu_s_recommender, cpu_s_notifier, cpu_s_broker: CPU seconds each process
  used from the first input published until the pipeline drained (the debounce included),
  medians of the one-recommender runs: where the two cores go.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench import report
from bench.processes import (
    POSTGRES,
    GroupProgress,
    ServiceProcess,
    cpu_seconds,
    drop_schema,
    owners_waiting,
    postgres,
    service_env,
    wait_ready,
)
from shared import topics
from shared.broker import ensure_topics
from shared.embedded_broker import EmbeddedBroker
from shared.messages import encode
from shared.sample_network import generate
from shared.settings import KafkaSettings

DEBOUNCE_SECONDS = 1.0
REPEATS = 5  # passthrough and pipeline runs, alternated (odd: the medians are runs)
Message = tuple[str, bytes, bytes]  # topic, key, value


def sample_inputs(owners: int, scale: float, prefix: str, seed: int = 3) -> list[Message]:
    """Several owners' networks, interleaved as they would arrive from many users."""
    per_owner = []
    for index in range(owners):
        network = generate(owner_id=f"{prefix}-{index}", seed=seed + index, scale=scale)
        per_owner.append(
            [
                (topic, envelope.owner_id.encode(), encode(envelope))
                for topic, envelope in network.messages
                if topic in topics.INPUTS
            ]
        )
    rng = random.Random(seed)
    merged: list[Message] = []
    cursors = [0] * owners
    while any(c < len(m) for c, m in zip(cursors, per_owner, strict=True)):
        index = rng.choice([i for i, m in enumerate(per_owner) if cursors[i] < len(m)])
        merged.append(per_owner[index][cursors[index]])
        cursors[index] += 1
    return merged


async def send_all(bootstrap: str, prefix: str, messages: Sequence[Message]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(prefix + t, v, key=k) for t, k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def passthrough_s(bootstrap: str, messages: Sequence[Message]) -> float:
    prefix = f"raw{uuid.uuid4().hex[:6]}."
    chain = [prefix + name for name in ("in", "hop1", "hop2", "hop3")]
    await ensure_topics(KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=""), chain)
    hops = [
        subprocess.Popen(  # noqa: ASYNC220 (started once, before the clock runs)
            [
                sys.executable,
                "-m",
                "bench.passthrough",
                bootstrap,
                f"{prefix}group{i}",
                source,
                target,
                str(len(messages)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, (source, target) in enumerate(itertools.pairwise(chain))
    ]
    try:
        for hop in hops:
            assert hop.stdout is not None
            if (await asyncio.to_thread(hop.stdout.readline)).strip() != "ready":
                raise RuntimeError("a passthrough hop failed to start")
        started = time.perf_counter()
        await send_all(bootstrap, "", [(chain[0], k, v) for _, k, v in messages])
        last = hops[-1]
        assert last.stdout is not None
        if (await asyncio.to_thread(last.stdout.readline)).strip() != "done":
            raise RuntimeError("the last passthrough hop failed")
        return time.perf_counter() - started
    finally:
        for hop in hops:
            hop.kill()
            hop.wait()


class System:
    """Ingest, notifier and ``recommenders`` recommender instances on one schema."""

    def __init__(self, bootstrap: str, recommenders: int) -> None:
        tag = uuid.uuid4().hex[:8]
        self.schema = f"sb_bench_{tag}"
        self.kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"b{tag}.")
        self.recommenders = recommenders
        self.services: list[ServiceProcess] = []
        self.database = postgres()  # one connection for every check of the owners waiting

    async def __aenter__(self) -> System:
        await ensure_topics(self.kafka)
        env = service_env(
            self.kafka,
            SPRINGBOARD_DATABASE__URL=POSTGRES,
            SPRINGBOARD_DATABASE__SCHEMA_NAME=self.schema,
            SPRINGBOARD_DEBOUNCE_SECONDS=str(DEBOUNCE_SECONDS),
        )
        # One at a time: they create the shared schema and their tables at start-up.
        for name in ["ingest", "notifier"] + ["recommender"] * self.recommenders:
            self.services.append(ServiceProcess(name, env))
            await wait_ready(self.services[-1:])
        return self

    async def __aexit__(self, *exc: object) -> None:
        for service in self.services:
            service.kill()
        self.database.close()
        drop_schema(self.schema)

    def group(self, service: str) -> str:
        """The consumer group of ``service``'s instances."""
        return f"{self.kafka.topic_prefix}springboard-{service}"

    async def drained(self, progress: GroupProgress) -> bool:
        """Every stage done, checked in pipeline order (each stage publishes before it
        commits, so a stage found done cannot get more work from the one before)."""
        stages = [
            ("ingest", topics.INPUTS),
            ("recommender", (topics.NETWORK_UPDATES,)),
            (None, ()),
            ("notifier", (topics.RECOMMENDATIONS,)),
        ]
        for name, names in stages:
            if name is None:
                if owners_waiting(self.database, self.schema):
                    return False
            elif await progress.behind(self.group(name), names):
                return False
        return True


async def pipeline_s(
    bootstrap: str, messages: Sequence[Message], recommenders: int, broker_pid: int | None = None
) -> tuple[float, dict[str, float]]:
    """Seconds through the pipeline (the debounce excluded), and the CPU seconds each
    service (and the broker, given its pid) used meanwhile."""
    async with System(bootstrap, recommenders) as system, GroupProgress(system.kafka) as progress:
        processes = {s.name: s.process.pid for s in system.services}
        if broker_pid is not None:
            processes["broker"] = broker_pid
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        started = time.perf_counter()
        await send_all(bootstrap, system.kafka.topic_prefix, messages)
        while await progress.behind(system.group("ingest"), topics.INPUTS):
            # The run cannot end within a debounce of ingest's last commit (the last
            # owner is scored a debounce after its last update): checking this seldom
            # delays no end, and leaves the broker and the two cores to the system.
            await asyncio.sleep(DEBOUNCE_SECONDS / 2)
        while not await system.drained(progress):
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started - DEBOUNCE_SECONDS
        used = {name: cpu_seconds(pid) - before[name] for name, pid in processes.items()}
        return elapsed, used


async def latencies_ms(bootstrap: str, owners: int, rate: float) -> list[float]:
    """Owner after owner at ``rate`` inputs per second; per owner, from its last input's
    time to the first suggestion published for it, the debounce excluded."""
    async with System(bootstrap, recommenders=1) as system:
        prefix = system.kafka.topic_prefix
        reader = AIOKafkaConsumer(
            prefix + topics.SUGGESTIONS, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await reader.start()
        first: dict[str, float] = {}

        async def read() -> None:
            while True:
                for records in (await reader.getmany(timeout_ms=100)).values():
                    for record in records:
                        owner = record.key.decode()
                        first.setdefault(owner, record.timestamp / 1000)

        reading = asyncio.create_task(read())
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        last_input: dict[str, float] = {}
        try:
            interval, next_at = 1 / rate, time.perf_counter()
            sends = {}
            for index in range(owners):
                for topic, key, value in sample_inputs(1, 0.02, f"lat{index}", seed=index):
                    await asyncio.sleep(max(next_at - time.perf_counter(), 0))
                    next_at += interval
                    # Not waiting for each confirmation keeps the rate steady.
                    sends[key.decode()] = await producer.send(prefix + topic, value, key=key)
            for owner, sent in sends.items():
                last_input[owner] = (await sent).timestamp / 1000
            deadline = time.monotonic() + 60
            while len(first) < len(last_input) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            await producer.stop()
            await reader.stop()
        missing = set(last_input) - set(first)
        if missing:
            raise RuntimeError(f"no suggestion for {len(missing)} owners within 60 s")
        return [
            (first[owner] - sent - DEBOUNCE_SECONDS) * 1000 for owner, sent in last_input.items()
        ]


async def measure(quick: bool) -> dict[str, Any]:
    messages = sample_inputs(4 if quick else 12, 0.1 if quick else 0.5, "owner")
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap_servers
        # Alternated, and the median of each: the speed of a shared machine drifts.
        raws, ones, cpus = [], [], []
        for _ in range(1 if quick else REPEATS):
            raws.append(await passthrough_s(bootstrap, messages))
            elapsed, cpu = await pipeline_s(
                bootstrap, messages, recommenders=1, broker_pid=broker.pid
            )
            ones.append(elapsed)
            cpus.append(cpu)
        raw, one = float(np.median(raws)), float(np.median(ones))
        pairs = [r / o for r, o in zip(raws, ones, strict=True)]  # each pair's quotient
        two, _ = await pipeline_s(bootstrap, messages, recommenders=2)
        latency = np.array(await latencies_ms(bootstrap, 10 if quick else 60, rate=200))
    return {
        "input_messages": len(messages),
        "pipeline_msgs_per_s": round(len(messages) / one, 1),
        "passthrough_msgs_per_s": round(len(messages) / raw, 1),
        "pipeline_ratio": round(raw / one, 4),
        "pipeline_ratio_lowest": round(min(pairs), 4),
        "pipeline_ratio_highest": round(max(pairs), 4),
        "latency_ms_p50": round(float(np.percentile(latency, 50)), 1),
        "latency_ms_p99": round(float(np.percentile(latency, 99)), 1),
        "latency_owners": len(latency),
        "debounce_ms": DEBOUNCE_SECONDS * 1000,
        "scaleout_ratio": round(one / two, 4),
        **{
            f"cpu_s_{name}": round(float(np.median([c[name] for c in cpus])), 2)
            for name in ("ingest", "recommender", "notifier", "broker")
        },
    }


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
