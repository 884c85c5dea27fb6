"""Liveness and readiness of a service instance, as its HTTP routes.

``/health``: the process answers and reaches the broker. ``/ready``: it also holds
partitions, reaches its database and its last batch went through; an orchestrator sends
traffic (and a rolling update goes on) only then.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Protocol

from faststream.asgi import AsgiResponse, get
from faststream.kafka import KafkaBroker

from shared.consumer import BatchConsumer
from shared.database import ServiceDatabase
from shared.partitions import Partitions


class Checked(Protocol):
    """The parts of a service instance its health is read from (``ServiceRuntime``)."""

    @property
    def name(self) -> str: ...
    @property
    def broker(self) -> KafkaBroker: ...
    @property
    def partitions(self) -> Partitions: ...
    @property
    def database(self) -> ServiceDatabase[Any]: ...
    @property
    def consumer(self) -> BatchConsumer: ...


def readiness(runtime: Checked) -> dict[str, Any]:
    partitions = runtime.partitions.assigned()
    database_ok = runtime.database.reachable()
    failures = runtime.consumer.failures
    return {
        "service": runtime.name,
        "ready": partitions > 0 and database_ok and failures == 0,
        "assigned_partitions": partitions,
        "database": "ok" if database_ok else "unavailable",
        "consecutive_failures": failures,
    }


def routes(runtime: Checked) -> list[tuple[str, Any]]:
    @get(include_in_schema=False)
    async def health(_scope: Any) -> AsgiResponse:
        alive = await runtime.broker.ping(timeout=3.0)
        body = json.dumps({"service": runtime.name, "broker": "ok" if alive else "unreachable"})
        return _json(body, 200 if alive else 503)

    @get(include_in_schema=False)
    async def ready(_scope: Any) -> AsgiResponse:
        state = await asyncio.to_thread(readiness, runtime)
        broker_ok = await runtime.broker.ping(timeout=2.0)
        state["broker"] = "ok" if broker_ok else "unreachable"
        state["ready"] = state["ready"] and broker_ok
        return _json(json.dumps(state), 200 if state["ready"] else 503)

    return [("/health", health), ("/ready", ready)]


def _json(body: str, status: int) -> AsgiResponse:
    return AsgiResponse(body.encode(), status, {"content-type": "application/json"})
