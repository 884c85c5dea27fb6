"""The delivery loop: due deliveries out to webhooks and e-mail, with retries and a breaker.

Deliveries live in the ``notify_delivery`` table, so a restart loses none: whatever was
pending is picked up again, with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import smtplib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import Counter
from sqlalchemy import bindparam
from sqlmodel import col, select

from services.notifier.delivery import email, webhook
from services.notifier.models import NotifyDelivery, NotifyPreferences, NotifySuggestion
from services.notifier.settings import NotifierSettings
from shared import topics
from shared.keys import SealError, open_sealed
from shared.messages import DeadLettered, wrap
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard.notifier.delivery")
BATCH = 200


# Asked on every tick of the delivery loop, mostly finding nothing: built once.
_DUE = (
    select(NotifyDelivery, NotifySuggestion)
    .where(
        NotifyDelivery.status == "pending",
        col(NotifyDelivery.due_at) <= bindparam("now"),
        NotifySuggestion.suggestion_id == NotifyDelivery.suggestion_id,
    )
    .order_by(col(NotifyDelivery.due_at))
    .limit(BATCH)
)


class Dispatcher:
    def __init__(self, runtime: ServiceRuntime[UnitOfWork], settings: NotifierSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.breaker = webhook.CircuitBreaker(
            settings.breaker_threshold, settings.breaker_cooldown_seconds
        )
        self.rng = random.Random()
        self.deliveries = Counter(
            "springboard_notifier_deliveries_total",
            "Delivery attempts, by channel and outcome.",
            ["channel", "outcome"],
            registry=runtime.registry,
        )
        self.smtp = email.smtp_config(settings)

    def _due(
        self, session: UnitOfWork, now: datetime
    ) -> list[tuple[NotifyDelivery, NotifySuggestion, NotifyPreferences | None]]:
        rows = session.exec(_DUE, params={"now": now}).all()
        prefs = {o: session.get(NotifyPreferences, o) for o in {d.owner_id for d, _ in rows}}
        return [(d, s, prefs[d.owner_id]) for d, s in rows]

    async def run_once(self) -> int:
        now = datetime.now(UTC)
        due = await self.runtime.database.in_transaction(lambda s: self._due(s, now))
        if not due:
            return 0
        results: list[tuple[str, str, dict[str, Any]]] = []  # (delivery id, outcome, fields)
        emails: dict[str, list[tuple[NotifyDelivery, NotifySuggestion]]] = defaultdict(list)
        async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as client:
            hooks = []
            for delivery, suggestion, prefs in due:
                if delivery.channel == "webhook":
                    hooks.append(self._webhook(client, delivery, suggestion, prefs))
                else:
                    emails[delivery.owner_id].append((delivery, suggestion))
            for outcome in await asyncio.gather(*hooks):
                results += outcome
        for owner_id, items in emails.items():
            prefs = next(p for d, _, p in due if d.owner_id == owner_id)
            results += await self._digest(owner_id, items, prefs)
        await self._record(results)
        return len(due)

    def _retry_or_die(
        self, delivery: NotifyDelivery, error: str, retry: bool, retry_after: float | None
    ) -> tuple[str, str, dict[str, Any]]:
        attempts = delivery.attempts + 1
        if retry and attempts < self.settings.delivery_max_attempts:
            wait = webhook.backoff_seconds(
                attempts,
                base=self.settings.backoff_base_seconds,
                cap=self.settings.backoff_max_seconds,
                rng=self.rng,
            )
            wait = max(wait, retry_after or 0.0)
            due_at = datetime.now(UTC) + timedelta(seconds=wait)
            return (
                delivery.delivery_id,
                "retry",
                {"attempts": attempts, "last_error": error, "due_at": due_at},
            )
        return (
            delivery.delivery_id,
            "dead",
            {"attempts": attempts, "last_error": error, "status": "dead"},
        )

    async def _webhook(
        self,
        client: httpx.AsyncClient,
        delivery: NotifyDelivery,
        suggestion: NotifySuggestion,
        prefs: NotifyPreferences | None,
    ) -> list[tuple[str, str, dict[str, Any]]]:
        if prefs is None or not prefs.webhook_url:
            return [
                (
                    delivery.delivery_id,
                    "dead",
                    {"status": "dead", "last_error": "no webhook configured"},
                )
            ]
        url = prefs.webhook_url
        if not self.breaker.allows(url):
            later = datetime.now(UTC) + timedelta(seconds=self.breaker.retry_in(url) + 0.05)
            return [(delivery.delivery_id, "deferred", {"due_at": later})]
        payload = {
            "owner_id": delivery.owner_id,
            "delivery_id": delivery.delivery_id,
            "suggestion": suggestion.payload,
        }
        secret = None
        if prefs.webhook_secret:
            try:
                secret = open_sealed(self.settings, prefs.webhook_secret)
            except SealError as error:
                return [self._retry_or_die(delivery, f"webhook secret: {error}", False, None)]
        outcome = await webhook.post(
            client,
            url,
            secret,
            payload,
            delivery.delivery_id,
            allow_private=self.settings.allow_private_webhooks,
        )
        if outcome.delivered:
            self.breaker.success(url)
            return [
                (
                    delivery.delivery_id,
                    "delivered",
                    {
                        "status": "delivered",
                        "delivered_at": datetime.now(UTC),
                        "attempts": delivery.attempts + 1,
                    },
                )
            ]
        self.breaker.failure(url)
        return [
            self._retry_or_die(
                delivery, outcome.error or "failed", outcome.retry, outcome.retry_after
            )
        ]

    async def _digest(
        self,
        owner_id: str,
        items: list[tuple[NotifyDelivery, NotifySuggestion]],
        prefs: NotifyPreferences | None,
    ) -> list[tuple[str, str, dict[str, Any]]]:
        if prefs is None or not prefs.email or not self.settings.smtp_host:
            return [
                (d.delivery_id, "dead", {"status": "dead", "last_error": "no e-mail configured"})
                for d, _ in items
            ]
        secret = self.settings.link_secret.get_secret_value() if self.settings.link_secret else None
        subject, text, html = email.render_digest(
            owner_id,
            [s.payload for _, s in items],
            base_url=self.settings.public_url,
            secret=secret,
        )
        message_id = "-".join(sorted(d.delivery_id for d, _ in items))[:200]
        try:
            await asyncio.to_thread(
                email.send, self.smtp, prefs.email, subject, text, html, message_id
            )
        except (OSError, smtplib.SMTPException) as error:
            return [self._retry_or_die(d, f"SMTP: {error}", True, None) for d, _ in items]
        now = datetime.now(UTC)
        return [
            (
                d.delivery_id,
                "delivered",
                {"status": "delivered", "delivered_at": now, "attempts": d.attempts + 1},
            )
            for d, _ in items
        ]

    async def _record(self, results: list[tuple[str, str, dict[str, Any]]]) -> None:
        def write(session: UnitOfWork) -> list[NotifyDelivery]:
            dead = []
            for delivery_id, outcome, fields in results:
                row = session.get(NotifyDelivery, delivery_id)
                if row is None:
                    continue
                for name, value in fields.items():
                    setattr(row, name, value)
                session.add(row)
                if outcome == "dead":
                    dead.append(row)
            return dead

        dead = await self.runtime.database.in_transaction(write)
        for row in dead:
            letter = DeadLettered(
                original_topic=topics.SUGGESTIONS,
                partition=-1,
                offset=-1,
                original_key=row.owner_id,
                original_value_b64=base64.b64encode(row.suggestion_id.encode()).decode(),
                service="notifier",
                reason=f"{row.channel} delivery {row.delivery_id} failed after "
                f"{row.attempts} attempt(s): {row.last_error}",
                failed_at=datetime.now(UTC),
            )
            await self.runtime.publisher.publish_all(
                [
                    (
                        topics.dead_letter(topics.SUGGESTIONS),
                        wrap(
                            letter,
                            owner_id=row.owner_id,
                            source="springboard.notifier",
                            message_id=f"dead/{row.delivery_id}",
                        ),
                    )
                ]
            )
        for delivery_id, outcome, _ in results:
            channel = delivery_id.split(":", 1)[0]
            self.deliveries.labels(channel, outcome).inc()

    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("delivery round failed; trying again")
                busy = 0
                await asyncio.sleep(1.0)
            if not busy:
                await asyncio.sleep(self.settings.dispatch_interval_seconds)
