"""``/feedback``: the one-click links in digests become feedback messages.

A link carries the owner, the suggestion, the action, when it expires, and an HMAC token
over the four. Opening it (GET) only shows a page whose button confirms the answer (POST):
mail scanners that fetch every link in a message answer nothing. A confirmed answer
publishes ``FeedbackGiven`` (keyed by owner, its id derived from the link) and is
remembered until the link expires, so each link acts once: an old link clicked again can
never override a newer answer. Tokens never reach the access log (``RedactTokens``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs

from shared import topics
from shared.broker import Publisher
from shared.messages import FeedbackGiven, wrap
from shared.messages.inputs import FeedbackAction
from shared.signing import link_token_ok

NAMESPACE = uuid.UUID("1d6c2f1e-88a4-4f35-9d0e-5b7f3a2c4e61")
WORDS = {
    "accepted": "Great — good luck!",
    "dismissed": "Understood; we will not suggest it again soon.",
    "snoozed": "We will bring it up again later.",
    "done": "Well done!",
}
LABELS = {"accepted": "Accept", "dismissed": "Dismiss", "snoozed": "Snooze", "done": "Mark done"}
MAX_FORM_BYTES = 4096


@dataclass(frozen=True)
class Link:
    """What an answered link said."""

    owner_id: str
    suggestion_id: str
    action: str


Used = Callable[[str], Awaitable[bool]]
Remember = Callable[[str, Link, datetime], Awaitable[None]]


class RedactTokens(logging.Filter):
    """Takes the token out of logged request lines (uvicorn's access log logs the query)."""

    TOKEN = re.compile(r"([?&]t=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.TOKEN.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self.TOKEN.sub(r"\1…", record.msg)
        return True


class FeedbackLinks:
    def __init__(
        self,
        publisher: Publisher,
        secret: str | None,
        *,
        used: Used | None = None,
        remember: Remember | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.publisher = publisher
        self.secret = secret
        self._used = used or _never_used
        self._remember = remember or _forget
        self._clock = clock

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, body = await self._handle(scope, receive)
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Springboard</title>"
            "<meta name='referrer' content='no-referrer'>"
            f"</head><body>{body}</body></html>"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": page})

    async def _handle(self, scope: dict[str, Any], receive: Any) -> tuple[int, str]:
        method = scope.get("method")
        if method not in ("GET", "POST"):
            return 405, _text("Method not allowed.")
        if not self.secret:
            return 503, _text("Feedback links are not configured.")
        fields = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        if method == "POST":
            form = await _form(receive)
            if form is None:
                return 413, _text("This request is too large.")
            fields = {**fields, **form}
        link = {k: fields.get(k, [""])[0] for k in ("o", "s", "a", "e", "t")}
        problem = self._check(link)
        if problem:
            return problem
        if method == "GET":
            return 200, _confirmation(link)
        digest = hashlib.sha256(link["t"].encode()).hexdigest()
        if await self._used(digest):
            return 409, _text("This answer was already recorded; the link works once.")
        try:
            envelope = wrap(
                FeedbackGiven(suggestion_id=link["s"], action=FeedbackAction(link["a"])),
                owner_id=link["o"],
                source="springboard.notifier.links",
                message_id=str(uuid.uuid5(NAMESPACE, f"{link['o']}|{link['s']}|{link['a']}")),
            )
        except ValueError:
            return 400, _text("This link is not valid.")
        await self.publisher.publish_all([(topics.FEEDBACK, envelope)])
        # Remembered once it is on Kafka: a failed publish leaves the link usable.
        answered = Link(owner_id=link["o"], suggestion_id=link["s"], action=link["a"])
        await self._remember(digest, answered, datetime.fromtimestamp(int(link["e"]), UTC))
        return 200, _text(WORDS.get(link["a"], "Thanks!"))

    def _check(self, link: dict[str, str]) -> tuple[int, str] | None:
        if link["a"] not in LABELS or not link["o"] or not link["s"] or not link["e"]:
            return 400, _text("This link is incomplete.")
        assert self.secret is not None
        if not link_token_ok(self.secret, link["t"], link["o"], link["s"], link["a"], link["e"]):
            return 403, _text("This link is not valid.")
        if not link["e"].isdigit() or int(link["e"]) < self._clock():
            return 410, _text("This link has expired; answer from a newer digest.")
        return None


async def _form(receive: Any) -> dict[str, list[str]] | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_FORM_BYTES:
            return None
        if not message.get("more_body"):
            return parse_qs(body.decode(errors="replace"))


def _text(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _confirmation(link: dict[str, str]) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{k}' value='{escape(v, quote=True)}'>" for k, v in link.items()
    )
    label = LABELS[link["a"]]
    return (
        f"<p>{escape(label)} this suggestion?</p>"
        f"<form method='post' action='feedback'>{hidden}"
        f"<button type='submit'>{escape(label)}</button></form>"
    )


async def _never_used(_digest: str) -> bool:
    return False


async def _forget(_digest: str, _link: Link, _expires_at: datetime) -> None:
    return None
