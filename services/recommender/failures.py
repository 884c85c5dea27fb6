"""Owners whose scoring failed: each is that owner's problem alone, counted, and retried
with backoff, while every other owner is scored as usual."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge

logger = logging.getLogger("springboard.recommender")

FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 900.0


class OwnerFailures:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._next_try: dict[str, float] = {}
        self._attempts: dict[str, int] = {}
        self.failures = Counter(
            "springboard_recommender_owner_failures_total",
            "Owners whose scoring failed (each failure of each owner).",
            registry=registry,
        )
        self.failing = Gauge(
            "springboard_recommender_owners_failing",
            "Owners whose last scoring failed, waiting to be retried.",
            registry=registry,
        )

    def may_try(self, owner_id: str, now: float | None = None) -> bool:
        """False while a failed owner waits for its retry."""
        retry = self._next_try.get(owner_id)
        return retry is None or (now if now is not None else time.monotonic()) >= retry

    def failed(self, owner_id: str, error: BaseException) -> float:
        """Count the failure and put the owner off; returns the seconds until its retry."""
        attempts = self._attempts[owner_id] = self._attempts.get(owner_id, 0) + 1
        delay: float = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1))
        self._next_try[owner_id] = time.monotonic() + delay
        self.failures.inc()
        self.failing.set(len(self._next_try))
        # The error's type only: its text can carry the owner's data (a row, a name).
        logger.error(
            "scoring owner %s failed (%s, %d in a row); other owners go on, retry in %.0fs",
            owner_id,
            type(error).__name__,
            attempts,
            delay,
            extra={"owner_id": owner_id},
        )
        return delay

    def succeeded(self, owner_id: str) -> None:
        if self._next_try.pop(owner_id, None) is not None:
            self._attempts.pop(owner_id, None)
            self.failing.set(len(self._next_try))
