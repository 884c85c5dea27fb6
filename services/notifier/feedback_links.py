"""``GET /feedback``: the one-click links in digests become feedback messages.

A link carries the owner, the suggestion, the action and an HMAC token over the three;
a valid click publishes ``FeedbackGiven`` (keyed by owner, with an id derived from the
click, so clicking twice changes nothing twice) and answers with a short page.
"""

from __future__ import annotations

import uuid
from html import escape
from typing import Any
from urllib.parse import parse_qs

from services.notifier.delivery.signing import link_token_ok
from shared import topics
from shared.broker import Publisher
from shared.messages import FeedbackGiven, wrap
from shared.messages.inputs import FeedbackAction

NAMESPACE = uuid.UUID("1d6c2f1e-88a4-4f35-9d0e-5b7f3a2c4e61")
WORDS = {
    "accepted": "Great — good luck!",
    "dismissed": "Understood; we will not suggest it again soon.",
    "snoozed": "We will bring it up again later.",
    "done": "Well done!",
}


class FeedbackLinks:
    def __init__(self, publisher: Publisher, secret: str | None) -> None:
        self.publisher = publisher
        self.secret = secret

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, text = await self._handle(scope)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Springboard</title>"
            f"</head><body><p>{escape(text)}</p></body></html>"
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": page})

    async def _handle(self, scope: dict[str, Any]) -> tuple[int, str]:
        if scope.get("method") not in ("GET", "POST"):
            return 405, "Method not allowed."
        if not self.secret:
            return 503, "Feedback links are not configured."
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        owner, suggestion, action, token = (query.get(k, [""])[0] for k in ("o", "s", "a", "t"))
        if action not in {a.value for a in FeedbackAction} or not owner or not suggestion:
            return 400, "This link is incomplete."
        if not link_token_ok(self.secret, token, owner, suggestion, action):
            return 403, "This link is not valid."
        try:
            envelope = wrap(
                FeedbackGiven(suggestion_id=suggestion, action=FeedbackAction(action)),
                owner_id=owner,
                source="springboard.notifier.links",
                message_id=str(uuid.uuid5(NAMESPACE, f"{owner}|{suggestion}|{action}")),
            )
        except ValueError:
            return 400, "This link is not valid."
        await self.publisher.publish_all([(topics.FEEDBACK, envelope)])
        return 200, WORDS.get(action, "Thanks!")
