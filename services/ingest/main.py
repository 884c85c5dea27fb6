"""The ingest service: validates, normalises and resolves raw input into network updates.

Read down: ``handlers`` (the Kafka handler), ``publishing`` and ``canonical`` (the rules:
what an input changes, and what goes out), ``store`` and ``unit_of_work`` (persistence);
``webhooks`` is the HTTP way in, ``importer`` and ``parsers`` the files', ``sync`` and
``dav`` the CalDAV and CardDAV servers'.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaRouter
from sqlmodel import col, delete

from services.ingest.handlers import Ingest, IngestMetrics, on_inputs
from services.ingest.models import TABLES, IngestWebhookReplay
from services.ingest.settings import IngestSettings
from services.ingest.store import IngestWork
from services.ingest.uploads import UploadEndpoint
from services.ingest.webhooks import DEFAULT_KEY, WebhookEndpoint, WebhookKey
from shared.contract import subscribed
from shared.keys import page_secret
from shared.service import ServiceRuntime


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    settings = settings or IngestSettings()
    runtime = ServiceRuntime("ingest", settings, TABLES, IngestWork)
    runtime.broker.include_router(router(runtime))
    keys = {
        name: WebhookKey(key.secret.get_secret_value(), tuple(key.owners))
        for name, key in settings.webhook_keys.items()
    }
    if settings.webhook_secret:
        keys[DEFAULT_KEY] = WebhookKey(
            settings.webhook_secret.get_secret_value(), tuple(settings.webhook_owners)
        )
    webhooks = WebhookEndpoint(
        runtime.publisher,
        keys=keys,
        max_bytes=settings.webhook_max_bytes,
        tolerance_seconds=settings.webhook_tolerance_seconds,
        replays=StoredReplays(runtime, settings.webhook_tolerance_seconds),
    )
    uploads = UploadEndpoint(
        settings.kafka, page_secret(settings), max_bytes=settings.upload_max_bytes
    )
    return runtime.asgi_app(asgi_routes=[("/webhooks/crm", webhooks), ("/imports", uploads)])


def router(runtime: ServiceRuntime[IngestWork]) -> KafkaRouter:
    ingest = Ingest(runtime, IngestMetrics(runtime.registry))
    return subscribed(runtime, "ingest-inputs", partial(on_inputs, ingest))


class StoredReplays:
    """Accepted webhook requests in ingest's database: a replay is refused after a restart
    too. Each is forgotten once its signed timestamp has left the window."""

    def __init__(self, runtime: ServiceRuntime[IngestWork], tolerance_seconds: int) -> None:
        self.runtime = runtime
        self.tolerance = timedelta(seconds=tolerance_seconds)

    async def seen(self, key: str) -> bool:
        return await self.runtime.database.in_transaction(
            lambda s: s.get(IngestWebhookReplay, key) is not None
        )

    async def remember(self, key: str, signed_at: int) -> None:
        at = datetime.fromtimestamp(signed_at, UTC)

        def save(session: IngestWork) -> None:
            expired = datetime.now(UTC) - 2 * self.tolerance
            session.exec(
                delete(IngestWebhookReplay).where(col(IngestWebhookReplay.signed_at) < expired)
            )
            if session.get(IngestWebhookReplay, key) is None:
                session.add(IngestWebhookReplay(replay_key=key, signed_at=at))

        await self.runtime.database.in_transaction(save)
