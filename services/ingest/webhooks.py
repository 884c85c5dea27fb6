"""CRM webhooks: signed JSON envelopes POSTed to the ingest service, put durably on Kafka.

The sender signs ``<timestamp>.<body>`` with HMAC-SHA256 and the shared secret:

    X-Springboard-Timestamp: 1764322800
    X-Springboard-Signature: v1=<hex digest>

Answers: 202 once every envelope is confirmed by the broker; 401 for a missing or bad
signature or a timestamp outside the replay window; 413 for a body over the limit; 422
for JSON that is not a valid input envelope (nothing is published then); 503 when no
secret is configured. The body is one envelope, exactly as on the input topics, or a
JSON array of them; the topic follows from each envelope's ``type``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from typing import Any

from pydantic import ValidationError

from shared import topics
from shared.broker import Publisher
from shared.messages import TOPIC_PAYLOADS, envelope_adapter

TIMESTAMP_HEADER = b"x-springboard-timestamp"
SIGNATURE_HEADER = b"x-springboard-signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def _types_to_topics() -> dict[str, str]:
    out: dict[str, str] = {}
    for topic in topics.INPUTS:
        payload = TOPIC_PAYLOADS[topic]
        members = getattr(payload, "__args__", None)
        classes = members[0].__args__ if members and hasattr(members[0], "__args__") else [payload]
        for cls in classes:
            out[cls.TYPE] = topic
    return out


TYPE_TOPICS = _types_to_topics()


class WebhookEndpoint:
    """A plain ASGI app (POST only), mounted at ``/webhooks/crm`` on the ingest service."""

    def __init__(
        self, publisher: Publisher, *, secret: str | None, max_bytes: int, tolerance_seconds: int
    ) -> None:
        self.publisher = publisher
        self.secret = secret
        self.max_bytes = max_bytes
        self.tolerance = tolerance_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()

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
        if not self.secret:
            return 503, {"error": "webhooks are not configured (no secret)"}
        headers = dict(scope.get("headers") or [])
        declared = int(headers.get(b"content-length", b"0") or 0)
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
        error = self._check_signature(headers, bytes(body))
        if error:
            return 401, {"error": error}
        try:
            envelopes = self._parse(bytes(body))
        except ValueError as problem:
            return 422, {"error": str(problem)}
        await self.publisher.publish_all(envelopes)
        return 202, {"accepted": len(envelopes)}

    def _check_signature(self, headers: dict[bytes, bytes], body: bytes) -> str | None:
        try:
            timestamp = int(headers.get(TIMESTAMP_HEADER, b""))
        except ValueError:
            return "missing or malformed timestamp header"
        if abs(time.time() - timestamp) > self.tolerance:
            return "timestamp outside the replay window"
        given = headers.get(SIGNATURE_HEADER, b"").decode(errors="replace")
        assert self.secret is not None
        if not hmac.compare_digest(given, sign(self.secret, timestamp, body)):
            return "bad signature"
        now = time.time()
        while self._seen and next(iter(self._seen.values())) < now - self.tolerance:
            self._seen.popitem(last=False)
        if given in self._seen:
            return "this request was already received (replay)"
        self._seen[given] = now
        return None

    @staticmethod
    def _parse(body: bytes) -> list[tuple[str, Any]]:
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"body is not JSON: {error}") from None
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
