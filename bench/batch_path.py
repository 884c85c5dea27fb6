"""Ingest's and the recommender's batch paths alone on PostgreSQL, without a broker.

``python -m bench.batch_path [--json] [--quick]`` feeds the benchmark pipeline's inputs
(12 owners at scale 1; --quick: 4 at 0.1) to each service's own batch handler, in
batches of 1,000 records, with the service's garbage-collector settings, and prints:
- ingest_inputs, ingest_cpu_s: CPU seconds for ingest to validate, apply and encode them
  (what publishing would send is encoded, not sent);
- ingest_first_batches_cpu_s: the same for its first two batches, nearly all contacts,
  each a person new to the store (the first inputs of every owner);
- ingest_young_collections, ingest_gc_s: the garbage collector's young-generation
  collections during that, and the seconds they took;
- recommender_updates, recommender_changes, recommender_cpu_s: the same for the
  recommender projecting the network updates ingest made (records, each of one owner's
  changes from a batch, and the changes they carry; scoring is not part of it);
- ingest_wait_s, recommender_wait_s: the seconds each took beyond its CPU: waiting for
  PostgreSQL's answers (and, on two cores, for a core to run on);
- ingest_replay_cpu_s, ingest_replay_wait_s, recommender_replay_updates,
  recommender_replay_cpu_s, recommender_replay_wait_s: the same for the same inputs again,
  as a re-imported calendar or CRM export sends them, and the updates they make (the same
  again): nothing changes in either store.
The figures any change to a batch path is judged by: a pipeline run on this machine swings
more than such a change moves it.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry
from sqlmodel import SQLModel

from bench import report
from bench.pipeline import sample_inputs
from bench.processes import POSTGRES, drop_schema
from services.ingest import main as ingest_main
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.recommender import main as recommender_main
from services.recommender.models import TABLES as RECOMMENDER_TABLES
from shared import topics
from shared.broker import Rejected, decode_records
from shared.consumer import BatchConsumer, Process
from shared.messages import Envelope, encode
from shared.service import ServiceRuntime, tune_garbage_collector
from shared.settings import DatabaseSettings, KafkaSettings, SpringboardSettings
from shared.unit_of_work import UnitOfWork

BATCH = KafkaSettings().batch_max_records  # the services' batch size, as shipped


class Recorded:
    """Stands in for the publisher: encodes every envelope, as publishing does, and keeps the
    network updates' keys and values. Bytes only: envelopes kept alive would grow the
    collector's generations as no running service's do."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.values: list[bytes] = []
        self.changes = 0

    async def publish_all(self, messages: Iterable[tuple[str, Envelope[Any]]]) -> int:
        count = 0
        for topic, envelope in messages:
            value = encode(envelope)
            count += 1
            if topic == topics.NETWORK_UPDATES:
                self.keys.append(envelope.owner_id.encode())
                self.values.append(value)
                self.changes += len(envelope.data.changes)
        return count

    async def dead_letter(self, rejected: Iterable[Rejected]) -> int:  # noqa: ARG002
        raise AssertionError("the benchmark's inputs are all valid")


class KeptConsumer(BatchConsumer):
    """A consumer whose handler is kept to be called directly, not subscribed."""

    process: Process

    def subscribe(self, router: Any, *topic_names: str, title: str, process: Process) -> None:  # noqa: ARG002
        self.process = process


BatchPathRuntime = ServiceRuntime[Any]


def runtime_for(
    name: str, tables: Sequence[type[SQLModel]], schema: str, unit: type[UnitOfWork]
) -> BatchPathRuntime:
    settings = SpringboardSettings(database=DatabaseSettings(url=POSTGRES, schema_name=schema))
    runtime: BatchPathRuntime = ServiceRuntime(name, settings, tables, unit)
    runtime.consumer = KeptConsumer(name, settings.kafka, runtime.publisher, CollectorRegistry())
    runtime.publisher = Recorded()  # type: ignore[assignment]
    runtime.database.open()
    return runtime


def as_records(
    topic_keys_values: Iterable[tuple[str, bytes, bytes]],
) -> list[ConsumerRecord[Any, Any]]:
    now_ms = int(time.time() * 1000)
    return [
        ConsumerRecord(topic, 0, offset, now_ms, 0, key, value, None, len(key), len(value), [])
        for offset, (topic, key, value) in enumerate(topic_keys_values)
    ]


async def feed(
    runtime: BatchPathRuntime, records: Sequence[ConsumerRecord[Any, Any]]
) -> list[float]:
    """Feed ``records`` batch by batch; the CPU seconds of each batch."""
    cpu = []
    for start in range(0, len(records), BATCH):
        started = time.process_time()
        good, bad = decode_records(records[start : start + BATCH], prefix="", service=runtime.name)
        assert not bad, bad[0].dead_letter.data.reason
        assert isinstance(runtime.consumer, KeptConsumer)
        assert not await runtime.consumer.process(good)
        cpu.append(time.process_time() - started)
    return cpu


class YoungCollections:
    """Counts the collector's young-generation runs and their seconds while it is open."""

    def __init__(self) -> None:
        self.count, self.seconds, self._started = 0, 0.0, 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 0:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> YoungCollections:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def cpu_and_wait_s(work: Coroutine[Any, Any, list[float]]) -> tuple[float, float, list[float]]:
    """CPU seconds of ``work``, the seconds beyond them it took (waiting), and what it
    returned: the CPU seconds of each batch."""
    started, started_cpu = time.perf_counter(), time.process_time()
    per_batch = asyncio.run(work)
    cpu = time.process_time() - started_cpu
    return cpu, time.perf_counter() - started - cpu, per_batch


def measure(quick: bool) -> dict[str, Any]:
    inputs = as_records(sample_inputs(4 if quick else 12, 0.1 if quick else 1.0, "path"))
    schema = f"sb_path_{uuid.uuid4().hex[:8]}"
    runtimes: list[BatchPathRuntime] = []
    out: dict[str, Any] = {"ingest_inputs": len(inputs)}
    try:
        ingest = runtime_for("ingest", INGEST_TABLES, schema, IngestWork)
        recommender = runtime_for("recommender", RECOMMENDER_TABLES, schema, UnitOfWork)
        runtimes += [ingest, recommender]
        ingest_main.router(ingest)
        recommender_main.router(recommender, on_applied=lambda _owners: None)
        tune_garbage_collector()
        for run in ("", "replay_"):
            made = Recorded()
            ingest.publisher = made  # type: ignore[assignment]
            with YoungCollections() as collections:
                out[f"ingest_{run}cpu_s"], out[f"ingest_{run}wait_s"], per_batch = cpu_and_wait_s(
                    feed(ingest, inputs)
                )
            out.setdefault("ingest_first_batches_cpu_s", sum(per_batch[:2]))
            out.setdefault("ingest_young_collections", collections.count)  # the first import's
            out.setdefault("ingest_gc_s", collections.seconds)
            updates = as_records(
                (topics.NETWORK_UPDATES, key, value)
                for key, value in zip(made.keys, made.values, strict=True)
            )
            out[f"recommender_{run}updates"] = len(updates)
            out.setdefault("recommender_changes", made.changes)
            out[f"recommender_{run}cpu_s"], out[f"recommender_{run}wait_s"], _ = cpu_and_wait_s(
                feed(recommender, updates)
            )
    finally:
        for runtime in runtimes:
            runtime.database.engine.dispose()
        drop_schema(schema)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def main() -> None:
    report.main(__doc__, measure)


if __name__ == "__main__":
    main()
