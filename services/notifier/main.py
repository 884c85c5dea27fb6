"""The notifier service: budgets, de-duplicates, publishes and delivers suggestions.

Read down: ``handlers`` (the Kafka handler), ``choosing`` (the rules: what to tell the
owner, and when), ``store`` (persistence); ``dispatcher`` and ``delivery`` deliver by
webhook and e-mail, ``feedback_links`` takes the owner's one-click answers, and ``page`` is
the owner's own page under ``/me/``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaRouter

from services.notifier import store
from services.notifier.dispatcher import Dispatcher
from services.notifier.feedback_links import FeedbackLinks, Link, RedactTokens
from services.notifier.handlers import Notifier, NotifierMetrics, on_recommendations
from services.notifier.models import TABLES
from services.notifier.page.app import OwnerPage
from services.notifier.settings import NotifierSettings
from shared.contract import subscribed
from shared.keys import page_secret
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork


def create_app(settings: NotifierSettings | None = None) -> AsgiFastStream:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime("notifier", settings, TABLES, UnitOfWork)
    runtime.broker.include_router(router(runtime, settings))
    dispatcher = Dispatcher(runtime, settings)
    secret = settings.link_secret.get_secret_value() if settings.link_secret else None
    page = OwnerPage(runtime, settings, page_secret(settings))

    async def start_dispatcher() -> None:
        runtime.spawn(dispatcher.run_forever())

    async def used(digest: str) -> bool:
        return await runtime.database.in_transaction(
            lambda s: store.link_used(s, token_digest=digest)
        )

    async def remember(digest: str, link: Link, expires_at: datetime) -> None:
        def used_link(session: UnitOfWork) -> None:
            now = datetime.now(UTC)
            store.use_link(
                session, token_digest=digest, owner_id=link.owner_id, expires_at=expires_at, now=now
            )
            store.save_answer(
                session,
                owner_id=link.owner_id,
                suggestion_id=link.suggestion_id,
                action=link.action,
                at=now,
            )

        await runtime.database.in_transaction(used_link)

    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):  # one per process
        access.addFilter(RedactTokens())
    links = FeedbackLinks(runtime.publisher, secret, used=used, remember=remember)
    return runtime.asgi_app(
        after_startup=[start_dispatcher],
        asgi_routes=[("/feedback", links)],
        prefixed=[("/me", page.app())],
    )


def router(runtime: ServiceRuntime[UnitOfWork], settings: NotifierSettings) -> KafkaRouter:
    notifier = Notifier(runtime, settings, NotifierMetrics(runtime.registry))
    return subscribed(runtime, "notifier-recommendations", partial(on_recommendations, notifier))
