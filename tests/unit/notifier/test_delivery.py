from __future__ import annotations

import hashlib
import hmac
import random
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.notifier.choosing import after_quiet_hours, in_quiet_hours, next_digest
from services.notifier.delivery import email, webhook
from services.notifier.delivery.webhook import CircuitBreaker
from services.notifier.feedback_links import FeedbackLinks
from services.notifier.models import NotifyPreferences
from shared import topics
from shared.signing import sign

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
    assert weekly.weekday() == 0
    assert weekly > STOCKHOLM_NOON
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
    assert sign(secret, timestamp, body) == "v1=" + expected


def test_the_breaker_opens_after_repeated_failures_and_half_opens_after_the_cooldown() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_seconds=10, clock=lambda: clock[0])
    for _ in range(3):
        assert breaker.allows("u")
        breaker.failure("u")
    assert not breaker.allows("u")
    assert breaker.retry_in("u") == 10
    clock[0] = 10.5
    assert breaker.allows("u")  # one trial call
    assert not breaker.allows("u")  # and only one, until it is decided
    breaker.failure("u")  # the trial failed: open again for a full cooldown
    assert not breaker.allows("u")
    assert breaker.retry_in("u") == 10
    clock[0] = 21.0
    assert breaker.allows("u")
    breaker.success("u")
    assert not breaker.is_open("u")
    assert breaker.allows("u")
    assert breaker.allows("u")


def test_digests_escape_markup_in_every_user_provided_string() -> None:
    item = {
        "suggestion_id": "s1",
        "headline": "Get back in touch with <script>alert(1)</script>",
        "reasons": ['CFO at "Evil & Co" <b>'],
    }
    subject, text, html = email.render_digest(
        "o1", [item], base_url="https://sb.example", secret="k"
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&quot;Evil &amp; Co&quot; &lt;b&gt;" in html
    assert "<script>alert(1)</script>" in text  # the text part is plain text
    assert "a=dismissed" in html
    assert subject.startswith("Springboard: 1 suggestion")


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list = []

    async def publish_all(self, messages) -> int:
        self.sent += list(messages)
        return len(self.sent)


async def click(app, url: str, *, method: str = "GET", form: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as c:
        return await c.request(method, url, data=form)


class Answers:
    """The notifier's store of answered links, in memory."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    async def seen(self, digest: str) -> bool:
        return digest in self.used

    async def remember(self, digest: str, link, expires_at) -> None:  # noqa: ARG002
        self.used.add(digest)


def links_with_answers() -> FeedbackLinks:
    answers = Answers()
    return FeedbackLinks(FakePublisher(), "k", used=answers.seen, remember=answers.remember)


def fields_of(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


async def test_opening_a_link_only_asks_and_the_confirming_post_answers() -> None:
    links = links_with_answers()
    good = email.feedback_link("http://n", "k", "o1", "s1", "dismissed")
    opened = await click(links, good.removeprefix("http://n"))  # a mail scanner does this
    assert opened.status_code == 200
    assert "method='post'" in opened.text
    assert links.publisher.sent == []
    response = await click(links, "/feedback", method="POST", form=fields_of(good))
    assert response.status_code == 200
    [(topic, envelope)] = links.publisher.sent
    assert topic == topics.FEEDBACK
    assert envelope.owner_id == "o1"
    assert (envelope.data.suggestion_id, envelope.data.action.value) == ("s1", "dismissed")
    forged = {**fields_of(good), "o": "o2"}
    assert (await click(links, "/feedback", method="POST", form=forged)).status_code == 403
    assert len(links.publisher.sent) == 1


async def test_each_link_answers_once_so_an_old_one_never_overrides_a_newer_answer() -> None:
    links = links_with_answers()
    snooze = fields_of(email.feedback_link("http://n", "k", "o1", "s1", "snoozed"))
    done = fields_of(email.feedback_link("http://n", "k", "o1", "s1", "done"))
    for form in (snooze, done):
        assert (await click(links, "/feedback", method="POST", form=form)).status_code == 200
    again = await click(links, "/feedback", method="POST", form=snooze)
    assert again.status_code == 409
    assert [e.data.action.value for _, e in links.publisher.sent] == ["snoozed", "done"]


async def test_links_expire_and_odd_tokens_are_refused_not_crashed_on() -> None:
    links = links_with_answers()
    expired = email.feedback_link("http://n", "k", "o1", "s1", "done", expires=int(time.time()) - 1)
    assert (await click(links, expired.removeprefix("http://n"))).status_code == 410
    odd = {**fields_of(email.feedback_link("http://n", "k", "o1", "s1", "done")), "t": "ü" * 32}
    assert (await click(links, "/feedback", method="POST", form=odd)).status_code == 403
    assert links.publisher.sent == []


def test_tokens_never_reach_the_access_log() -> None:
    import logging

    from services.notifier.feedback_links import RedactTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/feedback?o=o1&s=s1&a=done&e=1&t=abcdef0123456789", "1.1", 200),
        None,
    )
    RedactTokens().filter(record)
    assert "abcdef0123456789" not in record.getMessage()
    assert "t=…" in record.getMessage()


def test_deliveries_are_due_per_channel_preference() -> None:
    from services.notifier.choosing import deliveries_for
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
    assert hook.due_at == STOCKHOLM_NOON
    assert mail.due_at - STOCKHOLM_NOON > timedelta(hours=12)
    assert deliveries_for([row], prefs(), STOCKHOLM_NOON) == []
