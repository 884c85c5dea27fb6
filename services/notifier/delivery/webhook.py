"""POSTing a suggestion to the owner's webhook: signed, idempotent, retried with backoff,
and no longer called for a while after repeated failures (a circuit breaker per URL)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from shared.signing import sign

RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool
    error: str | None = None
    retry_after: float | None = None


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0)))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds, from either of its forms (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def body_for(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


async def refused_destination(url: str) -> str | None:
    """Why a webhook URL may not be called, or None: one that is not http(s), or whose host
    is or resolves to an address that is not public (loopback, private, link-local,
    reserved): an owner's URL must not reach into the network Springboard runs in."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL: {url[:100]!r}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port)
    except OSError as error:
        return f"cannot resolve {parts.hostname!r}: {error}"
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            return f"{parts.hostname!r} is a non-public address ({ip}); refused"
    return None


async def post(
    client: httpx.AsyncClient,
    url: str,
    secret: str | None,
    payload: dict[str, Any],
    idempotency_key: str,
    *,
    allow_private: bool = False,
) -> Outcome:
    if not allow_private:
        refused = await refused_destination(url)
        if refused:
            # Not retried: the URL stays what it is until the owner changes it.
            return Outcome(False, refused.startswith("cannot resolve"), refused)
    body = body_for(payload)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "idempotency-key": idempotency_key,
        "x-springboard-timestamp": str(timestamp),
        "user-agent": "Springboard-Notifier/1",
    }
    if secret:
        headers["x-springboard-signature"] = sign(secret, timestamp, body)
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(False, True, f"{type(error).__name__}: {error}")
    if 200 <= response.status_code < 300:
        return Outcome(True, False)
    retry = response.status_code in RETRYABLE
    return Outcome(
        False,
        retry,
        f"HTTP {response.status_code}",
        retry_after_seconds(response.headers.get("retry-after")),
    )


# -- A circuit breaker per endpoint --------------------------------------------


@dataclass
class CircuitBreaker:
    """After repeated failures, stop calling an endpoint for a while, then let one trial
    call through (half-open) before sending everything again."""

    threshold: int = 5
    cooldown_seconds: float = 30.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _failures: dict[str, int] = field(default_factory=dict)
    _opened_at: dict[str, float] = field(default_factory=dict)
    _trial: set[str] = field(default_factory=set)

    def allows(self, endpoint: str) -> bool:
        """Closed; or open for the cooldown, after which one trial call may go."""
        opened = self._opened_at.get(endpoint)
        if opened is None:
            return True
        if self.clock() - opened >= self.cooldown_seconds and endpoint not in self._trial:
            self._trial.add(endpoint)
            return True
        return False

    def retry_in(self, endpoint: str) -> float:
        """How long a call refused now should wait before asking again."""
        opened = self._opened_at.get(endpoint)
        if opened is None:
            return 0.0
        left = self.cooldown_seconds - (self.clock() - opened)
        return left if left > 0 else min(1.0, self.cooldown_seconds)  # a trial is under way

    def success(self, endpoint: str) -> None:
        self._failures.pop(endpoint, None)
        self._opened_at.pop(endpoint, None)
        self._trial.discard(endpoint)

    def failure(self, endpoint: str) -> None:
        count = self._failures.get(endpoint, 0) + 1
        self._failures[endpoint] = count
        self._trial.discard(endpoint)
        if count >= self.threshold:
            self._opened_at[endpoint] = self.clock()

    def is_open(self, endpoint: str) -> bool:
        return endpoint in self._opened_at
