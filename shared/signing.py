"""HMAC-SHA256 signatures: of webhooks in (ingest) and out (notifier), and of one-click
feedback links.

A webhook receiver verifies a delivery like this (Python; any language has HMAC):

    import hashlib, hmac, time
    def verify(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
        if abs(time.time() - int(timestamp)) > 300:
            return False   # too old: a replay
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature, "v1=" + expected)

with ``timestamp`` from ``X-Springboard-Timestamp`` and ``signature`` from
``X-Springboard-Signature``; ``Idempotency-Key`` is the same on every retry of one delivery.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def signature_ok(secret: str, timestamp: int, body: bytes, given: bytes) -> bool:
    return hmac.compare_digest(given, sign(secret, timestamp, body).encode())


def link_token(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()[:32]


def link_token_ok(secret: str, token: str, *parts: str) -> bool:
    # As bytes: compare_digest refuses text with non-ASCII characters (a forged token's).
    expected = link_token(secret, *parts).encode()
    return hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected)
