"""``springboard demo``: the whole system on its embedded default, fed the sample network."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from services.embedded import EmbeddedSystem
from services.notifier.settings import NotifierSettings
from services.page_link import sign_in_link
from services.recommender import network_map as mapping
from services.recommender.settings import RecommenderSettings
from services.terminal import render_table, until_signalled
from shared.client import SuggestionReader, publish
from shared.messages import Envelope
from shared.sample_network import generate


def suggestion_rows(envelopes: list[Envelope[Any]]) -> list[dict[str, Any]]:
    rows = [{"owner_id": e.owner_id, **e.data.model_dump(mode="json")} for e in envelopes]
    return sorted(rows, key=lambda row: (row["owner_id"], row["rank"]))


async def run_demo(
    *, as_json: bool, keep_running: bool, data_dir: Path | None, seed: int, timeout: float
) -> list[dict[str, Any]]:
    console = Console(stderr=as_json)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="springboard-") as scratch:
        system = EmbeddedSystem(data_dir=data_dir or Path(scratch))
        console.print("Starting the embedded broker and the three services…")
        async with system:
            kafka = system.kafka
            console.print(
                f"Ready after {time.perf_counter() - started:.1f}s; feeding the sample network…"
            )
            network = generate(seed=seed)
            async with SuggestionReader(kafka) as reader:
                sent = await publish(kafka, network.messages)
                console.print(
                    f"Sent {sent} input messages for owner {network.owner_id}; "
                    "waiting for suggestions…"
                )
                found = await reader.collect(
                    owner_id=network.owner_id,
                    want=NotifierSettings().weekly_budget,
                    timeout=timeout,
                    quiet=10.0,
                )
            rows = suggestion_rows(found)
            if as_json:
                print(json.dumps(rows, indent=2, ensure_ascii=False))
            else:
                render_table(rows, console)
            console.print(f"{len(rows)} suggestions in {time.perf_counter() - started:.1f}s.")
            if not as_json:
                settings = RecommenderSettings(data_dir=system.data_dir, database=system.database)
                console.print(
                    mapping.render_text(mapping.for_owner(settings, network.owner_id)), markup=False
                )
            if keep_running:
                console.print(f"Broker: {kafka.bootstrap_servers}")
                for service in system.services:
                    console.print(f"{service.name:<12} {service.url}/health  /ready  /metrics")
                page = NotifierSettings(
                    data_dir=system.data_dir,
                    public_url=system.service("notifier").url,
                )
                console.print(
                    f"{'your page':<12} {sign_in_link(page, network.owner_id)}  "
                    f"(the sample owner's; works once, for {page.sign_in_minutes} minutes)",
                    markup=False,
                    soft_wrap=True,
                )
                console.print("Running; press Ctrl-C to stop.")
                await asyncio.Event().wait()
            elif not as_json:
                console.print("Run it with --keep-running to open the sample owner's page.")
    return rows


def main(
    *, as_json: bool, keep_running: bool, data_dir: Path | None, seed: int, timeout: float
) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    demo = run_demo(
        as_json=as_json, keep_running=keep_running, data_dir=data_dir, seed=seed, timeout=timeout
    )
    try:
        rows = asyncio.run(until_signalled(demo))
    except (KeyboardInterrupt, asyncio.CancelledError):
        Console(stderr=True).print("Stopped.")
        return 130
    return 0 if rows else 1
