"""The ingest service: validates, normalises and resolves raw input into network updates."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.ingest.handlers import build_router
from services.ingest.models import TABLES
from services.ingest.settings import IngestSettings
from shared.service import ServiceRuntime


def create_app(settings: IngestSettings | None = None) -> AsgiFastStream:
    runtime = ServiceRuntime("ingest", settings or IngestSettings(), TABLES)
    runtime.broker.include_router(build_router(runtime))
    return runtime.asgi_app()
