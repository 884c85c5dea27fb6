"""The notifier service: budgets, de-duplicates, publishes and delivers suggestions."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.notifier.dispatcher import Dispatcher
from services.notifier.feedback_links import FeedbackLinks
from services.notifier.handlers import build_router
from services.notifier.models import TABLES
from services.notifier.settings import NotifierSettings
from shared.service import ServiceRuntime


def create_app(settings: NotifierSettings | None = None) -> AsgiFastStream:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime("notifier", settings, TABLES)
    runtime.broker.include_router(build_router(runtime, settings))
    dispatcher = Dispatcher(runtime, settings)
    secret = settings.link_secret.get_secret_value() if settings.link_secret else None

    async def start_dispatcher() -> None:
        runtime.spawn(dispatcher.run_forever())

    return runtime.asgi_app(
        after_startup=[start_dispatcher],
        asgi_routes=[("/feedback", FeedbackLinks(runtime.publisher, secret))],
    )
