"""``springboard sync caldav|carddav URL --owner ID``: keep calendars or address books in step.

Exit codes: 0 every collection was synced (with or without changes); 1 the server refused
the credentials, or a collection could not be synced; 2 the command could not run (its
arguments, no broker, no store).

The password comes from an environment variable (``--password-env``, by default
``SPRINGBOARD_DAV_PASSWORD``) or a file (``--password-file``), never from the command
line, where other users and the shell's history would see it; with iCloud, Fastmail,
Google or Nextcloud use an app password made for Springboard in the account's security
settings, so it can be revoked alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from services.ingest.dav import DavClient, DavError, Kind, Unauthorized, describe
from services.ingest.models import TABLES
from services.ingest.parsers.common import printable
from services.ingest.sync import CollectionReport, Plan, SyncState, chosen, plan_collection
from services.terminal import console as terminal_console
from shared import database
from shared.client import BrokerUnavailable, Producer
from shared.messages.envelope import OWNER_ID_PATTERN
from shared.settings import SpringboardSettings

SYNCED, FAILED, CANNOT_RUN = 0, 1, 2
DEFAULT_PASSWORD_ENV = "SPRINGBOARD_DAV_PASSWORD"
LONGEST_BACKOFF_SECONDS = 300.0


class CannotRun(Exception):
    pass


def password(env: str | None, file: Path | None) -> str | None:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CannotRun(f"--password-file {file}: {error.strerror}") from None
    return os.environ.get(env or DEFAULT_PASSWORD_ENV)


async def publish(settings: SpringboardSettings, plan: Plan) -> int:
    if not plan.outgoing:
        return 0
    async with Producer(settings.kafka) as producer:
        for topic, envelope in plan.outgoing:
            await producer.send(topic, envelope)
    return producer.confirmed


def sync_once(
    kind: Kind,
    url: str,
    *,
    owner: str,
    username: str | None,
    secret: str | None,
    names: Sequence[str],
    settings: SpringboardSettings,
    zone: str,
) -> list[tuple[dict[str, Any], CollectionReport]]:
    engine = database.make_engine(
        settings.database_url("ingest"), schema_name=settings.database.schema_name
    )
    try:
        database.create_tables(engine, TABLES)
        state = SyncState(engine)
        me = state.owner_emails(owner)
        out = []
        with DavClient(url, username=username, password=secret) as client:
            collections = chosen(client.collections(kind), names)
            if not collections:
                what = "calendar" if kind is Kind.caldav else "address book"
                raise DavError(
                    f"no {what} found at {printable(url)}"
                    + (f" named {', '.join(names)}" if names else "")
                )
            for collection in collections:
                stored, items = state.load(owner, collection.url)
                plan = plan_collection(
                    client, kind, collection, owner, stored, items, me=me, zone=zone
                )
                plan.report.published = asyncio.run(publish(settings, plan))
                state.save(owner, kind, collection.url, plan)  # only once published
                out.append((describe(collection), plan.report))
        return out
    finally:
        engine.dispose()


def _print(results: list[tuple[dict[str, Any], CollectionReport]], as_json: bool) -> None:
    if as_json:
        rows = [{**where, **vars(report)} for where, report in results]
        print(json.dumps(rows, ensure_ascii=False))
        return
    console = terminal_console()
    for where, report in results:
        name = printable(report.name)
        if report.unchanged:
            console.print(f"{name}: no change.", markup=False)
            continue
        how = "first sync" if report.first else "resynced whole" if report.resynced else "synced"
        console.print(
            f"{name}: {how}; {report.changed} changed, {report.removed} removed, "
            f"{report.published} messages published ({where['url']}).",
            markup=False,
        )
        for problem in report.problems[:20]:
            console.print(f"  {printable(problem)}", markup=False)
        if len(report.problems) > 20:
            console.print(f"  … and {len(report.problems) - 20} more", markup=False)


def main(
    *,
    kind: str,
    url: str,
    owner: str,
    username: str | None,
    password_env: str | None,
    password_file: Path | None,
    names: Sequence[str],
    watch: float | None,
    timezone: str,
    as_json: bool,
) -> int:
    err = terminal_console(stderr=True)
    try:
        which = Kind(kind)
        if not re.fullmatch(OWNER_ID_PATTERN, owner):
            raise CannotRun(f"invalid owner id {printable(owner)!r}")
        if not url.startswith(("https://", "http://")):
            raise CannotRun(f"{printable(url)} is not an http(s) URL")
        if watch is not None and watch <= 0:
            raise CannotRun("--watch takes a number of seconds above 0")
        secret = password(password_env, password_file)
    except ValueError:
        err.print(f"unknown kind {printable(kind)!r}: caldav or carddav", markup=False)
        return CANNOT_RUN
    except CannotRun as error:
        err.print(str(error), markup=False)
        return CANNOT_RUN
    settings = SpringboardSettings()
    failures = 0
    while True:
        try:
            results = sync_once(
                which,
                url,
                owner=owner,
                username=username,
                secret=secret,
                names=names,
                settings=settings,
                zone=timezone,
            )
        except Unauthorized as error:
            err.print(f"{error}; check --username and the password", markup=False)
            return FAILED
        except (DavError, BrokerUnavailable) as error:
            err.print(str(error), markup=False)
            if watch is None:
                return FAILED if isinstance(error, DavError) else CANNOT_RUN
            failures += 1
            delay = min(LONGEST_BACKOFF_SECONDS, watch * 2 ** min(failures, 8))
            err.print(f"trying again in {delay:.0f} s", markup=False)
            time.sleep(delay)
            continue
        except SQLAlchemyError as error:
            err.print(f"ingest's store cannot be opened: {type(error).__name__}", markup=False)
            return CANNOT_RUN
        failures = 0
        _print(results, as_json)
        if watch is None:
            return SYNCED
        try:
            time.sleep(watch)
        except KeyboardInterrupt:
            return SYNCED
