"""A circuit breaker per endpoint: after repeated failures, stop calling it for a while."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    threshold: int = 5
    cooldown_seconds: float = 30.0
    clock: object = field(default=time.monotonic, repr=False)
    _failures: dict[str, int] = field(default_factory=dict)
    _opened_at: dict[str, float] = field(default_factory=dict)

    def _now(self) -> float:
        return self.clock()  # type: ignore[operator]

    def allows(self, endpoint: str) -> bool:
        """Closed, or open long enough that one trial call may go (half-open)."""
        opened = self._opened_at.get(endpoint)
        return opened is None or self._now() - opened >= self.cooldown_seconds

    def retry_in(self, endpoint: str) -> float:
        opened = self._opened_at.get(endpoint)
        return 0.0 if opened is None else max(0.0, self.cooldown_seconds - (self._now() - opened))

    def success(self, endpoint: str) -> None:
        self._failures.pop(endpoint, None)
        self._opened_at.pop(endpoint, None)

    def failure(self, endpoint: str) -> None:
        count = self._failures.get(endpoint, 0) + 1
        self._failures[endpoint] = count
        if count >= self.threshold:
            self._opened_at[endpoint] = self._now()

    def is_open(self, endpoint: str) -> bool:
        return endpoint in self._opened_at
