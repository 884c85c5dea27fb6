"""Shared by the outage tests: input to send, and waiting for a condition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared import topics
from shared.messages import wrap
from shared.messages.inputs import ContactUpserted


def contacts(owner: str, start: int, count: int) -> list[tuple[str, Any]]:
    return [
        (
            topics.CONTACTS,
            wrap(
                ContactUpserted(
                    external_id=f"c{i}", full_name=f"Person {i}", emails=[f"person{i}@x.example"]
                ),
                owner_id=owner,
                source="test",
            ),
        )
        for i in range(start, start + count)
    ]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.25)
    return value


async def equals(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) == expected


async def at_least(value: Awaitable[Any], expected: Any) -> bool:
    return (await value) >= expected
