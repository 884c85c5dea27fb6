"""The services as separate processes, as they run in production, for the benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from shared.broker import admin_client
from shared.embedded_broker import free_port
from shared.settings import KafkaSettings

POSTGRES = os.environ.get(
    "SPRINGBOARD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class ServiceProcess:
    """``springboard run NAME`` in its own process, with its own HTTP port."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", name],
            env={**env, "SPRINGBOARD_HTTP_PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory (VmHWM), in MB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc (Linux only)")

    def kill(self) -> None:
        """SIGKILL: no chance to commit or clean up, as in a crash."""
        self.process.kill()
        self.process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_env(kafka: KafkaSettings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SPRINGBOARD_KAFKA__TOPIC_PREFIX": kafka.topic_prefix,
        "SPRINGBOARD_LOG_LEVEL": "ERROR",
        **extra,
    }


async def wait_ready(services: Iterable[ServiceProcess], timeout: float = 120.0) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for service in services:
            for _ in range(int(timeout / 0.1)):
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited with {service.process.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{service.url}/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError(f"{service.name} was not ready in {timeout} s")


class GroupProgress:
    """How far consumer groups have committed, against the end of their topics.

    One request for the ends and one per group for its commits: the checks run during a
    benchmark, on the same two cores and broker as the system they watch."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self.offsets = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
        self.admin = admin_client(kafka)
        self._coordinators: dict[str, int] = {}

    async def __aenter__(self) -> GroupProgress:
        await self.offsets.start()
        await self.offsets.topics()  # metadata for every topic, created before this
        await self.admin.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.close()
        await self.offsets.stop()

    async def behind(self, group: str, topic_names: Iterable[str]) -> int:
        """Messages of ``topic_names`` the group has not committed yet."""
        partitions = []
        for name in topic_names:
            full = self.kafka.topic_prefix + name
            for partition in self.offsets.partitions_for_topic(full) or set():
                partitions.append(TopicPartition(full, partition))
        if not partitions:
            return 0
        ends = await self.offsets.end_offsets(partitions)
        if not any(ends.values()):
            return 0
        if group not in self._coordinators:
            self._coordinators[group] = await self.admin.find_coordinator(group)
        committed = await self.admin.list_consumer_group_offsets(
            group, self._coordinators[group], partitions
        )
        behind = 0
        for partition, end in ends.items():
            offset = committed.get(partition)
            behind += max(end - max(offset.offset if offset else 0, 0), 0)
        return behind


def postgres() -> psycopg.Connection[Any]:
    return psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True)


def drop_schema(schema: str) -> None:
    with postgres() as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def owners_waiting(connection: psycopg.Connection[Any], schema: str) -> int:
    """Owners whose latest changes the recommender has not scored yet."""
    row = connection.execute(
        f'SELECT count(*) FROM "{schema}".rec_owner_state '
        "WHERE scored_at IS NULL OR changed_at > scored_at"
    ).fetchone()
    return int(row[0]) if row else 0
