"""A circuit breaker per endpoint: after repeated failures, stop calling it for a while,
then let one trial call through (half-open) before sending everything again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
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
