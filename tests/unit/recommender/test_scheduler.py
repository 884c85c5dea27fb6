"""When the re-scoring loop looks for due owners: once an owner settles, not per batch.

Time is the test's own (``ManualClock``): each scenario states its seconds and runs in
milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.recommender.models import TABLES
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork
from tests.manual_clock import ManualClock


def scheduler(tmp_path: Path, debounce: float, scan: float = 30.0) -> Scheduler:
    settings = RecommenderSettings(
        data_dir=tmp_path, debounce_seconds=debounce, scan_interval_seconds=scan
    )
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    return Scheduler(runtime, settings, clock=ManualClock())


class Looks:
    """Stands in for ``run_once``: counts the looks, each taking ``seconds``."""

    def __init__(self, clock: ManualClock, seconds: float = 0.0) -> None:
        self.clock = clock
        self.seconds = seconds
        self.count = 0

    async def __call__(self) -> int:
        self.count += 1
        await self.clock.sleep(self.seconds)
        return 0


async def running(
    subject: Scheduler, looks: Looks, scenario: Callable[[ManualClock], Awaitable[None]]
) -> None:
    """Run the loop through ``scenario``, which moves the clock."""
    subject.run_once = looks  # type: ignore[method-assign]
    task = asyncio.create_task(subject.run_forever())
    try:
        await scenario(looks.clock)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_a_later_change_replaces_an_owners_settling_time(tmp_path: Path) -> None:
    subject = scheduler(tmp_path, debounce=60)
    subject.wake(["anna"])
    first = subject._next_settling()
    subject.clock.elapsed += 1  # type: ignore[attr-defined]
    subject.wake(["anna", "bo"])
    assert first is not None
    assert subject._next_settling() is not None
    assert subject._next_settling() > first  # anna's first entry is stale, skipped
    assert not subject._worth_a_look()  # nobody settled yet


def test_owners_settling_after_a_look_began_stay_for_the_next(tmp_path: Path) -> None:
    subject = scheduler(tmp_path, debounce=0.5)
    subject.wake(["anna"])
    settles = subject._next_settling()
    assert settles is not None
    subject._forget_settled(settles - 0.1)
    assert subject._next_settling() == settles
    subject._forget_settled(settles)
    assert subject._next_settling() is None


def test_applied_batches_do_not_start_a_look_until_an_owner_settles(tmp_path: Path) -> None:
    subject = scheduler(tmp_path, debounce=1.0)
    clock = subject.clock
    assert isinstance(clock, ManualClock)
    looks = Looks(clock)
    counts: list[int] = []

    async def scenario(clock: ManualClock) -> None:
        await clock.advance(0.05)  # the first look, at start
        for _ in range(10):  # a busy consumer: a batch every 10 ms
            subject.wake(["anna"])
            await clock.advance(0.01)
        await clock.advance(0.2)
        counts.append(looks.count)
        await clock.advance(2.5)
        counts.append(looks.count)

    asyncio.run(running(subject, looks, scenario))
    while_settling, after = counts
    assert while_settling == 1  # ten batches, no look: no one could be due
    assert after == 2  # one look when anna settled, long before the 30 s scan


def test_an_owner_settling_during_a_look_is_looked_for_at_once(tmp_path: Path) -> None:
    subject = scheduler(tmp_path, debounce=0.1)
    clock = subject.clock
    assert isinstance(clock, ManualClock)
    looks = Looks(clock, seconds=0.3)
    counts: list[int] = []

    async def scenario(clock: ManualClock) -> None:
        await clock.advance(0.05)
        subject.wake(["anna"])  # settles at 0.15 s, while the first look runs until 0.3 s
        await clock.advance(0.24)  # 0.29 s: the first look is still running
        counts.append(looks.count)
        await clock.advance(0.02)  # 0.31 s: it ended at 0.3 s
        counts.append(looks.count)

    asyncio.run(running(subject, looks, scenario))
    # A second look right after the first (which may have missed anna), not at the scan.
    assert counts == [1, 2]


def test_an_erased_owners_state_goes_once_their_empty_list_is_published(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from services.recommender import store
    from services.recommender.models import RecOwnerState
    from shared import database
    from shared.messages.network import OwnerErased

    subject = scheduler(tmp_path, debounce=0)
    subject.runtime.database.open()
    sent: list = []

    class Published:
        async def publish_all(self, messages) -> None:
            sent.extend(envelope for _, envelope in messages)

    subject.runtime.publisher = Published()  # type: ignore[assignment]
    with database.transaction(subject.runtime.database.engine) as session:
        store.mark_changed(
            session, inputs={"gone": (datetime.now(UTC), None)}, at=datetime.now(UTC)
        )
        store.apply_changes(session, [("gone", OwnerErased())])
    asyncio.run(subject.score_owners(["gone"]))
    assert [(e.owner_id, e.data.items) for e in sent] == [("gone", [])]
    with database.transaction(subject.runtime.database.engine) as session:
        assert session.get(RecOwnerState, "gone") is None
