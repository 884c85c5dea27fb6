from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.notifier.delivery import email, webhook
from services.notifier.delivery.breaker import CircuitBreaker
from services.notifier.delivery.signing import link_token, signature
from services.notifier.feedback_links import FeedbackLinks
from services.notifier.models import NotifyPreferences
from services.notifier.schedule import after_quiet_hours, in_quiet_hours, next_digest
from shared import topics

STOCKHOLM_NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Stockholm


def prefs(**kwargs) -> NotifyPreferences:
    return NotifyPreferences(owner_id="o", **kwargs)


def test_quiet_hours_may_wrap_around_midnight() -> None:
    assert in_quiet_hours(datetime(2026, 1, 1, 23), 21, 7)
    assert in_quiet_hours(datetime(2026, 1, 1, 3), 21, 7)
    assert not in_quiet_hours(datetime(2026, 1, 1, 12), 21, 7)
    assert not in_quiet_hours(datetime(2026, 1, 1, 12), None, None)


def test_a_delivery_in_quiet_hours_waits_for_their_end_in_the_owners_zone() -> None:
    late = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # 22:30 in Stockholm
    due = after_quiet_hours(late, prefs(quiet_hours_start=22, quiet_hours_end=7))
    assert due == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 07:00 Stockholm
    assert (
        after_quiet_hours(STOCKHOLM_NOON, prefs(quiet_hours_start=22, quiet_hours_end=7))
        == STOCKHOLM_NOON
    )


def test_digests_go_out_at_the_owners_hour_daily_or_on_mondays() -> None:
    daily = next_digest(STOCKHOLM_NOON, prefs(cadence="daily", digest_hour=8))
    assert daily == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    weekly = next_digest(STOCKHOLM_NOON, prefs(cadence="weekly", digest_hour=8))
    assert weekly.weekday() == 0 and weekly > STOCKHOLM_NOON
    assert next_digest(STOCKHOLM_NOON, prefs(cadence="instant")) == STOCKHOLM_NOON


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    waits = [webhook.backoff_seconds(n, base=1.0, cap=30.0, rng=rng) for n in range(1, 12)]
    assert all(0 <= w <= min(30.0, 2 ** (n - 1)) for n, w in enumerate(waits, start=1))
    assert max(waits) <= 30.0


def test_retry_after_is_read_in_both_forms() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert webhook.retry_after_seconds("120") == 120.0
    assert webhook.retry_after_seconds("Sat, 28 Nov 2026 12:01:00 GMT", now) == pytest.approx(60.0)
    assert webhook.retry_after_seconds("soon") is None


def test_the_documented_receiver_check_accepts_our_signature() -> None:
    body, secret, timestamp = b'{"a": 1}', "whsec_0123456789abcdef", 1_764_000_000
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert signature(secret, timestamp, body) == "v1=" + expected


def test_the_breaker_opens_after_repeated_failures_and_half_opens_after_the_cooldown() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_seconds=10, clock=lambda: clock[0])
    for _ in range(3):
        assert breaker.allows("u")
        breaker.failure("u")
    assert not breaker.allows("u") and breaker.retry_in("u") == 10
    clock[0] = 10.5
    assert breaker.allows("u")  # one trial call
    assert not breaker.allows("u")  # and only one, until it is decided
    breaker.failure("u")  # the trial failed: open again for a full cooldown
    assert not breaker.allows("u") and breaker.retry_in("u") == 10
    clock[0] = 21.0
    assert breaker.allows("u")
    breaker.success("u")
    assert not breaker.is_open("u") and breaker.allows("u") and breaker.allows("u")


def test_digests_escape_markup_in_every_user_provided_string() -> None:
    item = {
        "suggestion_id": "s1",
        "headline": "Get back in touch with <script>alert(1)</script>",
        "reasons": ['CFO at "Evil & Co" <b>'],
    }
    subject, text, html = email.render_digest(
        "o1", [item], base_url="https://sb.example", secret="k"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&quot;Evil &amp; Co&quot; &lt;b&gt;" in html
    assert "<script>alert(1)</script>" in text  # the text part is plain text
    assert "a=dismissed" in html and subject.startswith("Springboard: 1 suggestion")


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list = []

    async def publish_all(self, messages) -> int:
        self.sent += list(messages)
        return len(self.sent)


async def click(app, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as c:
        return await c.get(url)


async def test_a_signed_feedback_link_becomes_a_feedback_message_and_a_forged_one_does_not() -> (
    None
):
    links = FeedbackLinks(FakePublisher(), "k")
    good = email.feedback_link("http://n", "k", "o1", "s1", "dismissed")
    response = await click(links, good.removeprefix("http://n"))
    assert response.status_code == 200
    [(topic, envelope)] = links.publisher.sent
    assert topic == topics.FEEDBACK and envelope.owner_id == "o1"
    assert (envelope.data.suggestion_id, envelope.data.action.value) == ("s1", "dismissed")
    forged = f"/feedback?o=o2&s=s1&a=dismissed&t={link_token('k', 'o1', 's1', 'dismissed')}"
    assert (await click(links, forged)).status_code == 403
    assert len(links.publisher.sent) == 1


def test_deliveries_are_due_per_channel_preference() -> None:
    from services.notifier.handlers import deliveries_for
    from services.notifier.models import NotifySuggestion

    row = NotifySuggestion(
        suggestion_id="s1",
        owner_id="o",
        kind="event",
        subject_id="e",
        payload={},
        chosen_at=STOCKHOLM_NOON,
    )
    both = deliveries_for(
        [row],
        prefs(webhook_url="https://h.example", email="o@x.example", cadence="daily"),
        STOCKHOLM_NOON,
    )
    assert {d.delivery_id for d in both} == {"webhook:s1", "email:s1"}
    hook = next(d for d in both if d.channel == "webhook")
    mail = next(d for d in both if d.channel == "email")
    assert hook.due_at == STOCKHOLM_NOON and mail.due_at - STOCKHOLM_NOON > timedelta(hours=12)
    assert deliveries_for([row], prefs(), STOCKHOLM_NOON) == []
