"""Time: UTC for what SQLite hands back, and the clock a waiting loop reads."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


def as_utc(moment: datetime) -> datetime:
    """Timezone-aware; SQLite hands back naive datetimes, which were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock(Protocol):
    """Where a loop that waits on time reads and waits for it: the system's in a service,
    a hand-driven one in tests (``tests/manual_clock.py``), so they need no real sleeps."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        """Until ``event`` is set (True) or ``timeout`` seconds passed (False)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout: float) -> bool:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True
