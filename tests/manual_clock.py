"""A clock the test moves by hand: waits end when the test advances time past them, so a
scenario of seconds runs in milliseconds and never depends on the machine's speed."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime.now(UTC)
        self.elapsed = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return 1_000.0 + self.elapsed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        timer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.elapsed + max(seconds, 0.0), next(self._order), timer))
        await timer

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        set_ = asyncio.ensure_future(event.wait())
        timed_out = asyncio.ensure_future(self.sleep(timeout))
        await asyncio.wait({set_, timed_out}, return_when=asyncio.FIRST_COMPLETED)
        for task in (set_, timed_out):
            task.cancel()
        return event.is_set()

    async def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, timer by timer, letting every task woken run."""
        until = self.elapsed + seconds
        await settle()
        while self._timers and self._timers[0][0] <= until:
            at, _, timer = heapq.heappop(self._timers)
            self.elapsed = max(self.elapsed, at)
            if not timer.done():
                timer.set_result(None)
            await settle()
        self.elapsed = until
        await settle()


async def settle() -> None:
    """Let the tasks that can run now run until they wait again."""
    for _ in range(20):
        await asyncio.sleep(0)
