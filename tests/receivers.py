"""Real receivers for delivery tests: an HTTP webhook endpoint (``bench.receivers``, shared
with the chaos run) and an SMTP server."""

from __future__ import annotations

import contextlib
from typing import Any

from aiosmtpd.controller import Controller

from bench.receivers import WebhookReceiver, serving
from shared.embedded_broker import free_port

__all__ = ["Inbox", "WebhookReceiver", "serving", "smtp_server"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextlib.contextmanager
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()
