"""Deadlines for slow HTTP clients, which uvicorn does not set: a request's head must arrive
within ``head_seconds`` of the connection (or of the previous response), and its body
within ``body_seconds`` of its head; a client slower than that (one byte a second, the
slow-loris attack) is disconnected. With uvicorn's ``limit_concurrency`` (503 beyond it)
this bounds what slow or many clients can hold.

This subclasses uvicorn's h11 protocol and uses its attributes (``conn``, ``loop``,
``transport``), so it is fenced to the uvicorn version it was written against.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

WRITTEN_FOR = "0.54.0"
assert version("uvicorn") == WRITTEN_FOR, (
    f"shared/http_guard.py uses uvicorn {WRITTEN_FOR}'s h11 protocol internals; "
    f"check them against uvicorn {version('uvicorn')} and update WRITTEN_FOR"
)


class GuardedH11Protocol(H11Protocol):
    head_seconds = 10.0
    body_seconds = 30.0

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_seconds)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.head_seconds)  # the next request's head, on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Re-arm by where the request stands: its body on its way, or all of it here."""
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._for != "body":
            self._arm(self.body_seconds, "body")
        elif state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR):
            self._disarm()  # the app has the request: its own time is its own

    _for = ""

    def _arm(self, seconds: float, what: str = "head") -> None:
        self._disarm()
        self._for = what
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._for = ""

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection too slow to send its request's %s", self._for)
            self.transport.close()


def guarded(head_seconds: float, body_seconds: float) -> type[GuardedH11Protocol]:
    """The protocol class with these deadlines, for ``uvicorn.Config(http=…)``."""
    attributes: dict[str, Any] = {"head_seconds": head_seconds, "body_seconds": body_seconds}
    return type("Guarded", (GuardedH11Protocol,), attributes)


def server_options(settings: Any) -> dict[str, Any]:
    """uvicorn options every service runs with: the deadlines above, a bound on concurrent
    connections (beyond it, 503), and headers of at most 16 KiB."""
    return {
        "http": guarded(settings.http_head_timeout_seconds, settings.http_body_timeout_seconds),
        "limit_concurrency": settings.http_max_connections,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,
    }
