"""Calls one service makes to another over HTTP, signed with the link secret: the owner's
page (notifier) hands an uploaded file to ingest, which imports it for that owner only.

The signature covers the timestamp, the owner, the fields and the body, so a call cannot
be replayed after ``TOLERANCE_SECONDS`` or turned to another owner.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from shared.signing import sign, signature_ok

OWNER_HEADER = "x-springboard-owner"
TIMESTAMP_HEADER = "x-springboard-timestamp"
SIGNATURE_HEADER = "x-springboard-signature"
FIELD_PREFIX = "x-springboard-field-"
TOLERANCE_SECONDS = 300


def _signed(owner: str, fields: Mapping[str, str], body: bytes) -> bytes:
    said = "\x1f".join([owner, *(f"{k}={v}" for k, v in sorted(fields.items()))])
    return said.encode() + b"\n" + body


def signed_headers(
    secret: str, owner: str, body: bytes, fields: Mapping[str, str], *, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        OWNER_HEADER: owner,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, _signed(owner, fields, body)),
        **{FIELD_PREFIX + k: v for k, v in fields.items()},
    }


def verified(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> tuple[str, dict[str, str]] | None:
    """The owner and fields of a correctly signed, recent call; None otherwise."""
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        return None
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return None
    owner = headers.get(OWNER_HEADER, "")
    fields = {
        k.removeprefix(FIELD_PREFIX): v for k, v in headers.items() if k.startswith(FIELD_PREFIX)
    }
    given = headers.get(SIGNATURE_HEADER, "").encode("utf-8", "surrogateescape")
    if not owner or not signature_ok(secret, timestamp, _signed(owner, fields, body), given):
        return None
    return owner, fields
