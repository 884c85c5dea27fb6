"""A real webhook receiver for delivery tests and the chaos run: an HTTP endpoint that
records every request and processes each Idempotency-Key once."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from services.embedded import _QuietServer
from shared.embedded_broker import free_port


@dataclass
class WebhookReceiver:
    """Fails the first ``failures`` requests (503, Retry-After), then accepts; processes each
    idempotency key once, as a careful receiver does."""

    failures: int = 0
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append({"headers": headers, "body": body})
        if self.delay:
            await asyncio.sleep(self.delay)
        if len(self.requests) <= self.failures:
            await send(
                {"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"1")]}
            )
            await send({"type": "http.response.body", "body": b"busy"})
            return
        key = headers.get("idempotency-key", "")
        self.processed.setdefault(key, json.loads(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def serving(app: Any, *, port: int | None = None, **options: Any) -> AsyncIterator[Any]:
    """Serve an ASGI app with uvicorn on loopback (``app.port`` unless ``port`` is given;
    ``options``: more uvicorn settings) until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port or app.port, log_level="warning", **options
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield app
    finally:
        server.should_exit = True
        await task
