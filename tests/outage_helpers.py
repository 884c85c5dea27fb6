"""Shared by the integration and end-to-end tests: input to send, and waiting for a
condition instead of a fixed time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shared import topics
from shared.messages import wrap
from shared.messages.inputs import ContactUpserted
from shared.settings import SpringboardSettings


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


class Logged(logging.Handler):
    """Counts the log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.count += 1


@contextmanager
def logged(text: str, logger: str = "springboard") -> Iterator[Logged]:
    handler = Logged(text)
    logging.getLogger(logger).addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger(logger).removeHandler(handler)


async def preferences_stored(settings: SpringboardSettings, owners: list[str]) -> None:
    """Until the notifier's store holds each owner's preferences (they and the ranked
    lists come on different topics, in no order between them)."""
    from sqlmodel import col, select

    from services.notifier.models import NotifyPreferences
    from shared import database

    engine = database.make_engine(
        settings.database_url("notifier"), schema_name=settings.database.schema_name
    )

    def stored() -> bool:
        try:
            with database.transaction(engine) as session:
                query = select(NotifyPreferences.owner_id).where(
                    col(NotifyPreferences.owner_id).in_(owners)
                )
                return len(set(session.exec(query))) == len(set(owners))
        except Exception:  # the notifier has not created its tables yet
            return False

    async def check() -> bool:
        return await asyncio.to_thread(stored)

    try:
        await eventually(check, 60)
    finally:
        engine.dispose()
