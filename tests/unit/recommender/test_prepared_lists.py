"""Lists prepared while an owner settles: published when they settle, only if still current."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.offline.replay import project
from services.recommender import store
from services.recommender.models import TABLES
from services.recommender.scheduler import PREPARED_AFTER, Scheduler
from services.recommender.settings import RecommenderSettings
from shared import database
from shared.messages import ContactUpserted, Envelope
from shared.sample_network import generate
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

DEBOUNCE = 1.5  # long enough for the preparation to finish inside it on a busy machine
OWNER = "maria"


class Published:
    """Stands in for the publisher: keeps the ranked lists and when they went out."""

    def __init__(self) -> None:
        self.lists: list[tuple[float, Envelope[Any]]] = []

    async def publish_all(self, messages: Iterable[tuple[str, Envelope[Any]]]) -> int:
        sent = [(time.monotonic(), envelope) for _, envelope in messages]
        self.lists += sent
        return len(sent)


def system(tmp_path: Path) -> tuple[Scheduler, Published, list[float]]:
    """A scheduler on a store holding one owner's sample network; it acts for every owner
    (no consumer group), and notes when each list is scored."""
    settings = RecommenderSettings(data_dir=tmp_path, debounce_seconds=DEBOUNCE)
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    engine = runtime.database.open()
    database.create_tables(engine, INGEST_TABLES)
    with database.transaction(engine, IngestWork) as session:
        for _topic, envelope in generate(owner_id=OWNER, now=datetime.now(UTC)).messages:
            project(session, owner_id=OWNER, source=envelope.source, data=envelope.data)
    published = Published()
    runtime.publisher = published  # type: ignore[assignment]
    runtime.partitions.owned_keys = lambda _topic, keys: list(keys)  # type: ignore[method-assign]
    subject = Scheduler(runtime, settings)
    scored: list[float] = []
    recommend = subject._recommend

    def noting(*args: Any, **kwargs: Any) -> Any:
        scored.append(time.monotonic())
        return recommend(*args, **kwargs)

    subject._recommend = noting  # type: ignore[method-assign]
    return subject, published, scored


def changed(subject: Scheduler) -> float:
    """The owner's network changed now (as a batch of updates marks it); when they settle."""
    now = datetime.now(UTC)

    def mark(session: Any) -> None:
        store.mark_changed(session, inputs={OWNER: (now, "input-1")}, at=now)

    asyncio.run(subject.runtime.database.in_transaction(mark))
    subject.wake([OWNER])
    return time.monotonic() + DEBOUNCE


async def running(subject: Scheduler, published: Published, meanwhile: Any = None) -> None:
    """Run the scheduler until it published a list (its look, when the owner settled, is
    then over), at most four debounce windows."""
    task = asyncio.create_task(subject.run_forever())
    if meanwhile is not None:
        await meanwhile()
    deadline = time.monotonic() + DEBOUNCE * 4
    while not published.lists and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_a_settling_owners_list_is_scored_in_the_wait_and_published_when_they_settle(
    tmp_path: Path,
) -> None:
    subject, published, scored = system(tmp_path)
    settles = changed(subject)
    asyncio.run(running(subject, published))
    assert len(scored) == 1  # once, not again at the look
    assert scored[0] < settles  # inside the wait
    assert scored[0] >= settles - DEBOUNCE * (1 - PREPARED_AFTER) - 0.01
    [(at, envelope)] = published.lists
    assert at >= settles - 0.01  # not before the owner settled
    assert envelope.owner_id == OWNER
    assert envelope.data.items
    assert envelope.correlation_id == "input-1"
    subject.runtime.database.engine.dispose()


def test_a_change_after_the_list_was_prepared_is_scored_again_with_it(tmp_path: Path) -> None:
    """Also one the scheduler was not woken for (applied by another instance of the group
    before a rebalance, say): the prepared list names the change it reflects."""
    subject, published, scored = system(tmp_path)
    changed(subject)
    newcomer = ContactUpserted(
        external_id="late-1", full_name="Zelda Newcomer", emails=["zelda@example.com"]
    )

    async def change_after_preparing() -> None:
        while not scored:  # until the list is prepared
            await asyncio.sleep(0.01)

        def add(session: Any) -> None:
            project(session, owner_id=OWNER, source="crm:test", data=newcomer)
            now = datetime.now(UTC)
            store.mark_changed(session, inputs={OWNER: (now, "input-2")}, at=now)

        with database.transaction(subject.runtime.database.engine, IngestWork) as session:
            add(session)

    asyncio.run(running(subject, published, change_after_preparing))
    assert len(scored) == 2  # prepared again for the newer change
    [(_, envelope)] = published.lists  # the stale list was never published
    assert envelope.correlation_id == "input-1"  # the oldest input not yet in a list
    subject.runtime.database.engine.dispose()
