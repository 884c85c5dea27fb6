"""The ``springboard import`` command: sources, progress, the summary, polling.

Exit codes (also in ``springboard import --help``):
  0  something was imported (or, with --dry-run, found to import), perhaps not all of it:
     the summary lists what was left out; or a feed had not changed since the last import
  1  nothing could be imported: an empty, binary, compressed or oversized file, a file of
     another kind, an unknown CSV format, or every item rejected
  2  the command could not run: a bad option, an unknown time zone, a missing file, a
     feed that could not be fetched
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from services.ingest import feeds, importer
from services.ingest.importer import ImportKind, Summary
from services.ingest.parsers import ics
from services.ingest.parsers.common import clean_email, printable
from services.terminal import console as terminal_console
from shared.client import BrokerUnavailable
from shared.messages.envelope import OWNER_ID_PATTERN
from shared.settings import SpringboardSettings


def _import_once(
    kind: ImportKind,
    source: str,
    *,
    owner: str,
    fmt: str | None,
    mapping: Path | None,
    event: str | None,
    timezone: str,
    dry_run: bool,
    show_progress: bool,
    settings: SpringboardSettings,
    me: Sequence[str] = (),
    events: bool = False,
) -> Summary:
    summary = Summary(source=source, dry_run=dry_run)
    progress = None
    if feeds.is_url(source):
        fetched = feeds.fetch(source, feeds.FeedCache(settings.data_dir / "feeds.json"))
        if fetched.chunks is None:
            summary.unchanged = True
            return summary
        chunks = iter(fetched.chunks)
    else:
        path = Path(source)
        max_bytes = ics.MAX_BYTES if kind is ImportKind.ics else None
        if show_progress:
            progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            progress.start()
            task = progress.add_task(path.name, total=path.stat().st_size)

            class Advance:
                def advance(self, n: int) -> None:
                    progress.advance(task, n)  # type: ignore[union-attr]

            chunks = feeds.file_lines(path, Advance(), max_bytes=max_bytes)
        else:
            chunks = feeds.file_lines(path, max_bytes=max_bytes)
    items = importer.parse(
        kind, chunks, fmt=fmt, mapping=mapping, event_id=event, zone=timezone, me=me, events=events
    )
    source_name = f"import:{kind.value}" + (f":{fmt}" if fmt else "")
    try:
        return asyncio.run(
            importer.run(
                items,
                owner_id=owner,
                source=source_name,
                summary=summary,
                kafka=None if dry_run else settings.kafka,
            )
        )
    finally:
        if progress is not None:
            progress.stop()


IMPORTED, NOTHING_IMPORTED, CANNOT_RUN = 0, 1, 2


def _print(summary: Summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    console = terminal_console()
    source = printable(summary.source)
    if summary.unchanged:
        console.print(f"{source}: not changed since the last import.", markup=False)
        return
    counts = ", ".join(f"{n} {k}" for k, n in summary.as_json()["counts"].items())
    verb = "Parsed" if summary.dry_run else f"Published {summary.published} messages;"
    console.print(f"{verb} {counts} from {source}.", markup=False)
    for label, items in (
        ("rejected", summary.rejected),
        ("warning", summary.warnings),
        ("skipped", summary.skipped),
    ):
        for item in items:
            console.print(f"  line {item['line']}: {label}: {item['reason']}", markup=False)
    for (severity, kind), n in sorted(summary.more.items()):
        console.print(f"  … and {n} more {severity}: {kind}", markup=False)
    if not summary.found:
        console.print(f"Nothing to import from {source}.", markup=False)


def exit_code(summary: Summary) -> int:
    return IMPORTED if summary.unchanged or summary.found else NOTHING_IMPORTED


def _reported(
    import_one: Callable[[str], Summary], source: str, as_json: bool, err: Console
) -> int:
    """Import one source and print its summary, or one line on why it could not be read;
    its exit code."""
    try:
        summary = import_one(source)
    except feeds.NothingToImport as error:
        err.print(f"nothing to import from {printable(source)}: {error}", markup=False)
        return NOTHING_IMPORTED
    except (OSError, ValueError) as error:
        err.print(f"cannot import {printable(source)}: {printable(str(error))}", markup=False)
        return CANNOT_RUN
    _print(summary, as_json)
    return exit_code(summary)


def main(
    *,
    kind: str,
    sources: Sequence[str],
    owner: str,
    fmt: str | None,
    mapping: Path | None,
    event: str | None,
    timezone: str,
    dry_run: bool,
    as_json: bool,
    watch: float | None,
    me: Sequence[str] = (),
    events: bool = False,
) -> int:
    err = terminal_console(stderr=True)
    try:
        chosen = ImportKind(kind)
    except ValueError:
        err.print(f"unknown kind {kind!r}: one of {', '.join(k.value for k in ImportKind)}")
        return CANNOT_RUN
    if not re.fullmatch(OWNER_ID_PATTERN, owner):
        err.print(f"invalid owner id {printable(owner)!r}", markup=False)
        return CANNOT_RUN
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        err.print(
            f"unknown time zone {printable(timezone)!r} (e.g. Europe/Stockholm)", markup=False
        )
        return CANNOT_RUN
    bad = [m for m in me if clean_email(m) is None]
    if bad:
        err.print(f"--me {printable(bad[0])!r} is not an e-mail address", markup=False)
        return CANNOT_RUN
    if watch is not None and (len(sources) != 1 or not feeds.is_url(sources[0])):
        err.print("--watch polls one feed URL; give a single https:// or webcal:// source")
        return CANNOT_RUN
    import_one = functools.partial(
        _import_once,
        chosen,
        owner=owner,
        fmt=fmt,
        mapping=mapping,
        event=event,
        timezone=timezone,
        dry_run=dry_run,
        show_progress=not as_json and sys.stderr.isatty(),
        settings=SpringboardSettings(),
        me=me,
        events=events,
    )
    while True:
        # Each source is imported and reported on its own, so one bad file loses nothing of
        # the others; the exit code is the worst of theirs. An unreachable broker ends the
        # round: the next source would wait for the same broker.
        try:
            code = max(_reported(import_one, source, as_json, err) for source in sources)
        except BrokerUnavailable as error:
            err.print(str(error), markup=False)
            code = CANNOT_RUN
        if watch is None:
            return code
        time.sleep(watch)
