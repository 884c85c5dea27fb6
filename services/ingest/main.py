"""The ingest service: validates, normalises and resolves raw input into network updates."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.ingest.handlers import build_router
from services.ingest.models import TABLES
from services.ingest.settings import IngestSettings
from services.ingest.webhooks import WebhookEndpoint
from shared.service import ServiceRuntime


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    settings = settings or IngestSettings()
    runtime = ServiceRuntime("ingest", settings, TABLES)
    runtime.broker.include_router(build_router(runtime))
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    webhooks = WebhookEndpoint(
        runtime.publisher,
        secret=secret,
        max_bytes=settings.webhook_max_bytes,
        tolerance_seconds=settings.webhook_tolerance_seconds,
    )
    return runtime.asgi_app(asgi_routes=[("/webhooks/crm", webhooks)])
