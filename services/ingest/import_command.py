"""The ``springboard import`` command: sources, progress, the summary, polling."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from services.ingest import feeds, importer
from services.ingest.importer import ImportKind, Summary
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

            chunks = feeds.file_lines(path, Advance())
        else:
            chunks = feeds.file_lines(path)
    items = importer.parse(kind, chunks, fmt=fmt, mapping=mapping, event_id=event, zone=timezone)
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


def _print(summary: Summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    console = Console()
    if summary.unchanged:
        console.print(f"{summary.source}: not changed since the last import.")
        return
    counts = ", ".join(f"{n} {k}" for k, n in summary.as_json()["counts"].items())
    verb = "Parsed" if summary.dry_run else f"Published {summary.published} messages;"
    console.print(f"{verb} {counts} from {summary.source}.")
    for item in summary.rejected:
        console.print(f"  line {item['line']}: rejected: {item['reason']}", markup=False)
    for item in summary.warnings:
        console.print(f"  line {item['line']}: warning: {item['reason']}", markup=False)


def main(
    *,
    kind: str,
    source: str,
    owner: str,
    fmt: str | None,
    mapping: Path | None,
    event: str | None,
    timezone: str,
    dry_run: bool,
    as_json: bool,
    watch: float | None,
) -> int:
    err = Console(stderr=True)
    try:
        chosen = ImportKind(kind)
    except ValueError:
        err.print(f"unknown kind {kind!r}: one of {', '.join(k.value for k in ImportKind)}")
        return 2
    if not re.fullmatch(OWNER_ID_PATTERN, owner):
        err.print(f"invalid owner id {owner!r}")
        return 2
    if watch is not None and not feeds.is_url(source):
        err.print("--watch polls a feed URL; give an https:// or webcal:// source")
        return 2
    settings = SpringboardSettings()
    show_progress = not as_json and sys.stderr.isatty()
    while True:
        try:
            summary = _import_once(
                chosen,
                source,
                owner=owner,
                fmt=fmt,
                mapping=mapping,
                event=event,
                timezone=timezone,
                dry_run=dry_run,
                show_progress=show_progress,
                settings=settings,
            )
        except (OSError, ValueError) as error:
            err.print(f"cannot import {source}: {error}")
            if watch is None:
                return 2
        else:
            _print(summary, as_json)
        if watch is None:
            return 0
        time.sleep(watch)
