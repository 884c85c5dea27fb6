"""CRM webhooks: signed JSON envelopes POSTed to the ingest service, put durably on Kafka.

The sender signs ``<timestamp>.<body>`` with HMAC-SHA256 and the shared secret:

    X-Springboard-Timestamp: 1764322800
    X-Springboard-Signature: v1=<hex digest>

Each sender has a key of its own (``X-Springboard-Key: hubspot``; without the header, the
key ``default``, the single ``SPRINGBOARD_WEBHOOK_SECRET``), scoped to the owners it may
write for: ``*`` for any owner, except that erasures and merge undos need the owner named.

Answers: 202 once every envelope is confirmed by the broker; 401 for a missing or bad
signature, a timestamp outside the replay window, or a request already accepted (a
replay: the signed timestamp and signature are remembered durably for the window, once
the messages are on Kafka, so an honest retry after a failure goes through); 403 for an
owner outside the key's scope; 413 for a body over the limit; 422 for JSON that is not a
valid input envelope (nothing is published then); 503 when no key is configured. The body
is one envelope, exactly as on the input topics, or a JSON array of them; the topic
follows from each envelope's ``type``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from shared import topics
from shared.broker import Publisher
from shared.messages import TYPE_TOPICS, envelope_adapter
from shared.signing import signature_ok

TIMESTAMP_HEADER = b"x-springboard-timestamp"
SIGNATURE_HEADER = b"x-springboard-signature"
KEY_HEADER = b"x-springboard-key"
DEFAULT_KEY = "default"


@dataclass(frozen=True)
class WebhookKey:
    """One sender's secret and the owners it may write for (``*``: any owner)."""

    secret: str
    owners: tuple[str, ...] = ("*",)

    def allows(self, owner_id: str, topic: str) -> bool:
        if owner_id in self.owners:
            return True
        # Erasing someone or splitting people apart needs a key scoped to that owner: a
        # key shared by every owner's CRM could otherwise erase any owner.
        return "*" in self.owners and topic not in (topics.ERASURE, topics.IDENTITY)


class Replays(Protocol):
    async def seen(self, key: str) -> bool: ...
    async def remember(self, key: str, signed_at: int) -> None: ...


class MemoryReplays:
    """Replays remembered in memory (tests; the service keeps them in its database)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    async def seen(self, key: str) -> bool:
        return key in self._keys

    async def remember(self, key: str, signed_at: int) -> None:  # noqa: ARG002
        self._keys.add(key)


class WebhookEndpoint:
    """A plain ASGI app (POST only), mounted at ``/webhooks/crm`` on the ingest service."""

    def __init__(
        self,
        publisher: Publisher,
        *,
        secret: str | None = None,
        keys: dict[str, WebhookKey] | None = None,
        max_bytes: int,
        tolerance_seconds: int,
        replays: Replays | None = None,
    ) -> None:
        self.publisher = publisher
        self.keys = dict(keys or {})
        if secret:
            self.keys.setdefault(DEFAULT_KEY, WebhookKey(secret))
        self.max_bytes = max_bytes
        self.tolerance = tolerance_seconds
        self.replays = replays or MemoryReplays()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, body = await self._handle(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def _handle(self, scope: dict[str, Any], receive: Any) -> tuple[int, dict[str, Any]]:
        if scope.get("method") != "POST":
            return 405, {"error": "POST only"}
        if not self.keys:
            return 503, {"error": "webhooks are not configured (no key)"}
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return 400, {"error": "malformed content-length"}
        if declared > self.max_bytes:
            return 413, {"error": f"body over {self.max_bytes} bytes"}
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return 413, {"error": f"body over {self.max_bytes} bytes"}
            if not message.get("more_body"):
                break
        name = headers.get(KEY_HEADER, DEFAULT_KEY.encode()).decode("ascii", "replace")
        key = self.keys.get(name)
        if key is None:
            return 401, {"error": "unknown key"}
        error, replay_key, signed_at = self._check_signature(key, headers, bytes(body))
        if error:
            return 401, {"error": error}
        if await self.replays.seen(replay_key):
            return 401, {"error": "this request was already received (replay)"}
        try:
            envelopes = self._parse(bytes(body))
        except ValueError as problem:
            return 422, {"error": str(problem)}
        for topic, envelope in envelopes:
            if not key.allows(envelope.owner_id, topic):
                return 403, {"error": f"key {name!r} may not send this for {envelope.owner_id!r}"}
        await self.publisher.publish_all(envelopes)
        # Remembered only once the messages are on Kafka: a sender retrying after an
        # error (a broker outage) is not taken for a replay.
        await self.replays.remember(replay_key, signed_at)
        return 202, {"accepted": len(envelopes)}

    def _check_signature(
        self, key: WebhookKey, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[str | None, str, int]:
        """(what is wrong or None, the request's replay key, its signed timestamp)."""
        try:
            timestamp = int(headers.get(TIMESTAMP_HEADER, b""))
        except ValueError:
            return "missing or malformed timestamp header", "", 0
        if abs(time.time() - timestamp) > self.tolerance:
            return "timestamp outside the replay window", "", 0
        given = headers.get(SIGNATURE_HEADER, b"")
        # Bytes, not text: compare_digest refuses non-ASCII text, and a header is bytes.
        if not signature_ok(key.secret, timestamp, body, given):
            return "bad signature", "", 0
        # The signed timestamp and the signature: the same request sent again, whenever.
        return None, f"{timestamp}.{given.decode('ascii')}", timestamp

    @staticmethod
    def _parse(body: bytes) -> list[tuple[str, Any]]:
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"body is not JSON: {error}") from None
        except RecursionError:
            raise ValueError("body is nested too deeply to be an envelope") from None
        items = document if isinstance(document, list) else [document]
        out = []
        for index, item in enumerate(items):
            kind = item.get("type") if isinstance(item, dict) else None
            topic = TYPE_TOPICS.get(kind) if isinstance(kind, str) else None
            if topic is None:
                raise ValueError(
                    f"item {index}: unknown or missing type; one of {sorted(TYPE_TOPICS)}"
                )
            try:
                out.append((topic, envelope_adapter(topic).validate_python(item)))
            except ValidationError as error:
                raise ValueError(f"item {index}: {error.errors(include_url=False)[:3]}") from None
        return out
