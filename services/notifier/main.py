"""The notifier service: budgets, de-duplicates and publishes suggestions."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.notifier.handlers import build_router
from services.notifier.models import TABLES
from services.notifier.settings import NotifierSettings
from shared.service import ServiceRuntime


def create_app(settings: NotifierSettings | None = None) -> AsgiFastStream:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime("notifier", settings, TABLES)
    runtime.broker.include_router(build_router(runtime, settings))
    return runtime.asgi_app()
