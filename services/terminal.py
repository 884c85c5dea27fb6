"""What every command shows a person: consoles that wrap only on a terminal, the table of
suggestions, and Ctrl-C that stops a long-running command in order."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 10_000
"""A pipe has no width: tables keep every column whole instead of cutting to 80."""


def console(*, stderr: bool = False) -> Console:
    """Wraps long lines on a terminal only: a pipe or a log gets each line and column whole."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        stderr=stderr,
        soft_wrap=not terminal,
        highlight=False,
        width=None if terminal else PIPE_WIDTH,
    )


KIND_LABELS = {
    "reconnect": "Reconnect",
    "introduction": "Introduction",
    "event": "Event",
    "give_back": "Give back",
}


def render_table(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="Springboard suggestions", show_lines=True, expand=True)
    table.add_column("#", justify="right", width=3)
    table.add_column("Kind", width=12)
    table.add_column("Suggestion", ratio=2)
    table.add_column("Score", justify="right", width=6)
    table.add_column("Why", ratio=3)
    for row in rows:
        table.add_row(
            str(row["rank"]),
            KIND_LABELS.get(row["kind"], row["kind"]),
            row["headline"],
            f"{row['score']:.2f}",
            "\n".join(f"• {r}" for r in row["reasons"]),
        )
    console.print(table)
    if rows:
        console.print(f"model {rows[0]['model_version']}, owner {rows[0]['owner_id']}")


async def until_signalled(work: Any) -> Any:
    """Run ``work``; SIGINT or SIGTERM cancels it, so every ``finally`` stops what it started.

    Only the first signal cancels: a second Ctrl-C while the services stop would cancel
    their stopping half-way, and the command would hang with the broker still running.
    Once stopping, later signals are ignored until the process exits, so an impatient
    Ctrl-C cannot turn an orderly stop into a KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)

    def stop() -> None:
        if not task.cancelling():
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    try:
        return await task
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
            if task.cancelling():
                signal.signal(signum, signal.SIG_IGN)
