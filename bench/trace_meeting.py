"""Follow one calendar meeting from ``springboard import ics`` to a suggestion and its
webhook, in one process, and count the project files its calls pass through.

``python -m bench.trace_meeting [--json]``. The meeting is parsed and published as the
import command does (its producer recorded instead of sent), then handed to ingest's
handler, the recommender's handler and scheduler, the notifier's handler, and the
notifier's delivery loop, which POSTs the suggestion, signed, to a real HTTP receiver on
loopback; each service on its own SQLite store; what one publishes is what the next
consumes. Every call into a file of ``shared/`` or ``services/`` is profiled, in the event
loop's thread and the database threads: the files it reaches, and the calls that cross
between ``shared/`` and ``services/``, to the suggestion and to the webhook. The owner's
goals and preferences are set up first and not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry

from bench.batch_path import KeptConsumer, as_records
from bench.receivers import WebhookReceiver, serving
from services.ingest import importer
from services.ingest import main as ingest_main
from services.ingest.importer import ImportKind, Summary
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.notifier import main as notifier_main
from services.notifier.dispatcher import Dispatcher
from services.notifier.models import TABLES as NOTIFIER_TABLES
from services.notifier.settings import NotifierSettings
from services.recommender import main as recommender_main
from services.recommender.models import TABLES as RECOMMENDER_TABLES
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared import topics
from shared.broker import decode_records
from shared.keys import seal
from shared.messages import Envelope, GoalsSet, PreferencesSet, encode, wrap
from shared.service import ServiceRuntime
from shared.settings import SpringboardSettings
from shared.signing import signature_ok
from shared.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
OWNER, ME, ANNA = "maria", "maria@example.com", "anna@nordbank.example"
WEBHOOK_SECRET = "the owner's webhook secret"
MEETING = f"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//trace//EN\r
BEGIN:VEVENT\r
UID:lunch-1\r
DTSTART:20261101T110000Z\r
DTEND:20261101T120000Z\r
SUMMARY:Lunch with Anna\r
ORGANIZER:mailto:{ME}\r
ATTENDEE;CN=Maria Lindqvist:mailto:{ME}\r
ATTENDEE;CN=Anna Berg:mailto:{ANNA}\r
END:VEVENT\r
END:VCALENDAR\r
"""


class Recorded:
    """Stands in for a publisher or the import command's producer."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Envelope[Any]]] = []
        self.confirmed = 0

    async def publish_all(self, messages: Iterable[tuple[str, Envelope[Any]]]) -> int:
        before = len(self.sent)
        self.sent += list(messages)
        return len(self.sent) - before

    async def send(self, topic: str, envelope: Envelope[Any]) -> None:
        self.sent.append((topic, envelope))
        self.confirmed += 1

    async def __aenter__(self) -> Recorded:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def on(self, *wanted: str) -> list[tuple[str, Envelope[Any]]]:
        return [(t, e) for t, e in self.sent if t in wanted]


def runtime(
    name: str, settings: SpringboardSettings, tables: Any, unit: type[UnitOfWork]
) -> ServiceRuntime[Any]:
    service: ServiceRuntime[Any] = ServiceRuntime(name, settings, tables, unit)
    service.consumer = KeptConsumer(name, settings.kafka, service.publisher, CollectorRegistry())
    service.publisher = Recorded()  # type: ignore[assignment]
    service.database.open()
    return service


async def consume(service: ServiceRuntime[Any], messages: list[tuple[str, Envelope[Any]]]) -> None:
    records = as_records((t, e.owner_id.encode(), encode(e)) for t, e in messages)
    good, bad = decode_records(records, prefix="", service=service.name)
    assert not bad, bad[0].dead_letter.data.reason
    assert isinstance(service.consumer, KeptConsumer)
    assert not await service.consumer.process(good)


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """``bench.receivers``' webhook, served from a thread and an event loop of its own that
    start before the profile does, so the receiver's calls are not counted."""
    receiver = WebhookReceiver()
    ready = threading.Event()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def serve() -> None:
        stop = asyncio.Event()
        running.append((asyncio.get_running_loop(), stop))
        async with serving(receiver):
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the webhook receiver did not start")
    try:
        yield receiver
    finally:
        loop, stop = running[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join()


class Calls:
    """The project files that calls reach, and the calls between shared/ and services/."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.crossings = 0
        self.calls = 0
        self.to_suggestion: tuple[int, int, int] = (0, 0, 0)

    def suggestion_published(self) -> None:
        """Keep the figures up to here: the trace to the suggestion, before its delivery."""
        self.to_suggestion = (len(self.files), self.crossings, self.calls)

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        callee = self._project(frame.f_code.co_filename)
        if callee is None:
            return
        self.calls += 1
        self.files.add(callee)
        caller = frame.f_back and self._project(frame.f_back.f_code.co_filename)
        if caller and caller.split("/", 1)[0] != callee.split("/", 1)[0]:
            self.crossings += 1

    @staticmethod
    def _project(filename: str) -> str | None:
        path = Path(filename)
        if not path.is_relative_to(ROOT):
            return None
        relative = path.relative_to(ROOT).as_posix()
        return relative if relative.startswith(("shared/", "services/")) else None


async def flow(
    ingest: ServiceRuntime[Any],
    recommender: ServiceRuntime[Any],
    notifier: ServiceRuntime[Any],
    scheduler: Scheduler,
    dispatcher: Dispatcher,
    calendar: bytes,
    calls: Calls,
) -> tuple[int, int]:
    producer = Recorded()
    real = importer.Producer  # type: ignore[attr-defined]
    importer.Producer = lambda _kafka: producer  # type: ignore[assignment,return-value,attr-defined]
    try:
        items = importer.parse(ImportKind.ics, [calendar])
        await importer.run(
            items,
            owner_id=OWNER,
            source="import:ics",
            summary=Summary(source="lunch.ics", dry_run=False),
            kafka=ingest.settings.kafka,
        )
    finally:
        importer.Producer = real  # type: ignore[attr-defined]
    await consume(ingest, producer.sent)
    updates = ingest.publisher.on(topics.NETWORK_UPDATES)  # type: ignore[attr-defined]
    await consume(recommender, updates)
    await scheduler.score_owners([OWNER])
    ranked = recommender.publisher.on(topics.RECOMMENDATIONS)  # type: ignore[attr-defined]
    await consume(notifier, ranked)
    suggestions = len(notifier.publisher.on(topics.SUGGESTIONS))  # type: ignore[attr-defined]
    calls.suggestion_published()
    delivered = await dispatcher.run_once()
    return suggestions, delivered


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, webhook_receiver() as receiver:
        home = Path(folder)
        ingest = runtime("ingest", SpringboardSettings(data_dir=home), INGEST_TABLES, IngestWork)
        settings = RecommenderSettings(data_dir=home)
        recommender = runtime("recommender", settings, RECOMMENDER_TABLES, UnitOfWork)
        notifier_settings = NotifierSettings(data_dir=home, allow_private_webhooks=True)
        notifier = runtime("notifier", notifier_settings, NOTIFIER_TABLES, UnitOfWork)
        ingest_main.router(ingest)
        recommender_main.router(recommender, on_applied=lambda _owners: None)
        notifier_main.router(notifier, notifier_settings)
        scheduler = Scheduler(recommender, settings)
        scheduler.runtime.partitions.owned_keys = lambda _t, keys: list(keys)  # type: ignore[method-assign,assignment]
        dispatcher = Dispatcher(notifier, notifier_settings)
        goals = wrap(
            GoalsSet(full_name="Maria Lindqvist", emails=[ME], country="SE"),
            owner_id=OWNER,
            source="cli",
        )
        sealed = seal(notifier_settings, WEBHOOK_SECRET)
        preferences = wrap(
            PreferencesSet(webhook_url=receiver.url, webhook_secret=sealed),
            owner_id=OWNER,
            source="cli",
        )
        # Not counted: the owner's goals to every service, the preferences to the notifier.
        asyncio.run(consume(ingest, [(topics.GOALS, goals)]))
        asyncio.run(consume(recommender, ingest.publisher.on(topics.NETWORK_UPDATES)))  # type: ignore[attr-defined]
        asyncio.run(consume(notifier, [(topics.GOALS, goals), (topics.PREFERENCES, preferences)]))
        for service in (ingest, recommender, notifier):
            service.publisher.sent.clear()  # type: ignore[attr-defined]
        calendar = MEETING.encode()
        calls = Calls()
        threading.setprofile(calls)  # the database threads of the loop below are new
        sys.setprofile(calls)
        try:
            suggestions, delivered = asyncio.run(
                flow(ingest, recommender, notifier, scheduler, dispatcher, calendar, calls)
            )
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
        for service in (ingest, recommender, notifier):
            service.database.close()
    signed = [
        signature_ok(
            WEBHOOK_SECRET,
            int(request["headers"]["x-springboard-timestamp"]),
            request["body"],
            request["headers"]["x-springboard-signature"].encode(),
        )
        for request in receiver.requests
    ]
    folders = sorted({"/".join(f.split("/")[:2]) for f in calls.files})
    files, crossings, count = calls.to_suggestion
    return {
        "suggestions": suggestions,
        "to_suggestion": {"files": files, "crossings_shared_services": crossings, "calls": count},
        "webhooks_delivered": delivered,
        "webhooks_received_signed": sum(signed),
        "files": len(calls.files),
        "crossings_shared_services": calls.crossings,
        "calls": calls.calls,
        "folders": folders,
        "file_list": sorted(calls.files),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args(argv)
    figures = measure()
    if arguments.json:
        print(json.dumps(figures, indent=2))
    else:
        first = figures["to_suggestion"]
        print(
            f"to the suggestion: {first['files']} files, {first['crossings_shared_services']} "
            f"calls between shared/ and services/, {first['calls']} calls; "
            f"{figures['suggestions']} suggestion(s) published"
        )
        print(
            f"to the webhook: {figures['files']} files, {figures['crossings_shared_services']} "
            f"calls between shared/ and services/, {figures['calls']} calls; "
            f"{figures['webhooks_received_signed']} webhook(s) received with a good signature"
        )
        for name in figures["file_list"]:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
