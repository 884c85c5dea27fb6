"""Ctrl-C on a long-running command: the first one stops it in order, a second one does not
cut that stopping short."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from services.terminal import until_signalled


async def _serve_until_stopped(events: list[str]) -> None:
    try:
        events.append("running")
        await asyncio.Event().wait()
    finally:
        # Stopping takes a while (services, then the broker): a second Ctrl-C comes in here.
        events.append("stopping")
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)
        events.append("stopped")


async def _signalled(events: list[str]) -> None:
    async def interrupt() -> None:
        while "running" not in events:
            await asyncio.sleep(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = asyncio.ensure_future(interrupt())
    try:
        await until_signalled(_serve_until_stopped(events))
    finally:
        await interrupter


@pytest.fixture
def own_signal_handlers():
    """The test changes how this process takes SIGINT and SIGTERM: put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("own_signal_handlers")
def test_a_second_signal_while_stopping_lets_the_stopping_finish() -> None:
    events: list[str] = []
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(_signalled(events))
    assert events == ["running", "stopping", "stopped"]
    # Between the end of stopping and the process's exit, Ctrl-C again does nothing
    # (it used to raise KeyboardInterrupt, ending the command by the signal).
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C after stopping raised KeyboardInterrupt")


def test_without_a_signal_the_work_returns_its_result() -> None:
    async def work() -> int:
        return 7

    async def run() -> int:
        return int(await until_signalled(work()))

    assert asyncio.run(run()) == 7
