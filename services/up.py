"""``springboard up``: the whole system for one person's own network, kept on disk.

The embedded broker listens on the configured bootstrap address (default 127.0.0.1:9092)
and the three services keep their stores in the data directory (default ``.springboard``),
so every other command finds them with no settings at all, and starting ``up`` again keeps
every owner's network, models and delivery log. The broker itself keeps its topics in
memory: what was on them is already in the services' stores.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from rich.console import Console

from services import terminal
from services.embedded import EmbeddedSystem
from services.terminal import until_signalled
from shared.embedded_broker import BrokerStartError, EmbeddedBroker
from shared.settings import SpringboardSettings

PORT_OFFSETS = {"ingest": 1, "recommender": 2, "notifier": 3}
"""Service ports after ``http_port`` (8001, 8002, 8003 by default: each service's own
default port, and the ports compose publishes)."""


def _host_port(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host or "127.0.0.1", int(port)


def _taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


async def _serve(settings: SpringboardSettings, console: Console) -> None:
    host, port = _host_port(settings.kafka.bootstrap_servers)
    ports = {name: settings.http_port + offset for name, offset in PORT_OFFSETS.items()}
    for what, (h, p) in {
        "the broker": (host, port),
        **{n: ("127.0.0.1", q) for n, q in ports.items()},
    }.items():
        if _taken(h, p):
            raise BrokerStartError(
                f"{h}:{p} is taken, so {what} cannot listen there: is `springboard up` "
                "running already? (set SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS or "
                "SPRINGBOARD_HTTP_PORT to move it)"
            )
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(host=host, port=port, log_file=data_dir / "broker.log")
    await asyncio.to_thread(broker.start)
    try:
        system = EmbeddedSystem(
            data_dir=data_dir,
            database=settings.database,
            bootstrap_servers=broker.bootstrap_servers,
            service_overrides={
                name: {"http_port": p, "log_level": settings.log_level} for name, p in ports.items()
            },
        )
        async with system:
            console.print(f"Springboard is up. Data: {data_dir}", markup=False)
            console.print(f"  broker       {broker.bootstrap_servers}", markup=False)
            for service in system.services:
                console.print(
                    f"  {service.name:<12} {service.url}  (/health /ready /metrics)", markup=False
                )
            console.print(
                f"  CRM webhooks {system.service('ingest').url}/webhooks/crm", markup=False
            )
            console.print(
                f"  your page    {system.service('notifier').url}/me/ — sign in with the link "
                "`springboard open --owner ID` prints",
                markup=False,
            )
            console.print(
                "Next: springboard owner …, springboard import …, springboard suggestions "
                "--owner ID, springboard open --owner ID. Ctrl-C stops.",
                markup=False,
            )
            await asyncio.Event().wait()
    finally:
        broker.stop()


def main(data_dir: Path | None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = SpringboardSettings()
    if data_dir is not None:
        settings.data_dir = data_dir
    console = terminal.console(stderr=True)
    try:
        asyncio.run(until_signalled(_serve(settings, console)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print(
            "Stopped; the data stays in " + str(settings.data_dir.resolve()), markup=False
        )
        return 0
    except (BrokerStartError, TimeoutError, OSError) as error:
        console.print(f"cannot start: {error}", markup=False)
        return 1
    return 0
