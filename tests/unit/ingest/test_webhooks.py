from __future__ import annotations

import json
import time

import httpx
import pytest

from services.ingest.webhooks import WebhookEndpoint, WebhookKey
from shared import topics
from shared.messages import encode, wrap
from shared.messages.inputs import ContactUpserted, EraseOwner
from shared.signing import sign

SECRET = "whsec-test"


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list = []

    async def publish_all(self, messages) -> int:
        messages = list(messages)
        self.sent += messages
        return len(messages)


def body() -> bytes:
    return encode(
        wrap(
            ContactUpserted(external_id="hs-1", full_name="Anna Berg"),
            owner_id="o1",
            source="crm:hubspot",
        )
    )


async def post(endpoint, payload: bytes, *, secret=SECRET, timestamp=None, headers=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    sent = {
        "X-Springboard-Timestamp": str(timestamp),
        "X-Springboard-Signature": sign(secret, timestamp, payload),
        **(headers or {}),
    }
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        return await client.post("/webhooks/crm", content=payload, headers=sent)


@pytest.fixture
def endpoint():
    return WebhookEndpoint(FakePublisher(), secret=SECRET, max_bytes=10_000, tolerance_seconds=300)


async def test_a_signed_envelope_is_accepted_and_goes_to_its_topic(endpoint) -> None:
    response = await post(endpoint, body())
    assert response.status_code == 202
    assert response.json() == {"accepted": 1}
    [(topic, envelope)] = endpoint.publisher.sent
    assert topic == topics.CONTACTS
    assert envelope.data.full_name == "Anna Berg"


def erase_batch(owner: str = "o1") -> bytes:
    return json.dumps(
        [json.loads(body()), json.loads(encode(wrap(EraseOwner(), owner_id=owner, source="crm")))]
    ).encode()


async def test_a_batch_of_envelopes_of_different_types_is_accepted() -> None:
    scoped = WebhookEndpoint(
        FakePublisher(),
        keys={"default": WebhookKey(SECRET, ("o1",))},
        max_bytes=10_000,
        tolerance_seconds=300,
    )
    response = await post(scoped, erase_batch())
    assert response.status_code == 202
    assert [t for t, _ in scoped.publisher.sent] == [topics.CONTACTS, topics.ERASURE]


async def test_a_key_shared_by_every_owner_cannot_erase_and_a_scoped_key_only_its_owners(
    endpoint,
) -> None:
    refused = await post(endpoint, erase_batch())
    assert refused.status_code == 403
    assert endpoint.publisher.sent == []
    hubspot = "a-hubspot-secret-of-at-least-32-characters"
    scoped = WebhookEndpoint(
        FakePublisher(),
        keys={"hubspot": WebhookKey(hubspot, ("o2",))},
        max_bytes=10_000,
        tolerance_seconds=300,
    )
    other = await post(scoped, body(), secret=hubspot, headers={"X-Springboard-Key": "hubspot"})
    assert other.status_code == 403  # o1's contact through o2's key
    unknown = await post(scoped, body(), secret=hubspot, headers={"X-Springboard-Key": "nope"})
    assert unknown.status_code == 401
    assert scoped.publisher.sent == []


async def test_a_bad_signature_is_refused_and_nothing_is_published(endpoint) -> None:
    response = await post(endpoint, body(), secret="wrong")
    assert response.status_code == 401
    assert endpoint.publisher.sent == []


async def test_a_timestamp_outside_the_replay_window_is_refused(endpoint) -> None:
    response = await post(endpoint, body(), timestamp=int(time.time()) - 3600)
    assert response.status_code == 401
    assert "window" in response.json()["error"]


async def test_the_same_signed_request_twice_is_a_replay(endpoint) -> None:
    now, payload = int(time.time()), body()
    assert (await post(endpoint, payload, timestamp=now)).status_code == 202
    again = await post(endpoint, payload, timestamp=now)
    assert again.status_code == 401
    assert "replay" in again.json()["error"]


async def test_an_oversized_body_is_refused_before_reading_it_all(endpoint) -> None:
    response = await post(endpoint, b"[" + b" " * 20_000 + b"]")
    assert response.status_code == 413


async def test_invalid_envelopes_get_their_reason_and_nothing_is_published(endpoint) -> None:
    raw = json.loads(body())
    raw["data"]["emails"] = ["not-an-email"]
    response = await post(endpoint, json.dumps(raw).encode())
    assert response.status_code == 422
    assert "emails" in response.json()["error"]
    unknown = await post(endpoint, b'{"type": "springboard.nothing"}')
    assert unknown.status_code == 422
    assert endpoint.publisher.sent == []


async def test_without_a_secret_the_endpoint_is_off() -> None:
    off = WebhookEndpoint(FakePublisher(), secret=None, max_bytes=10, tolerance_seconds=1)
    assert (await post(off, body())).status_code == 503


def test_the_source_label_takes_values_from_a_known_set_only() -> None:
    from services.ingest.publishing import source_kind

    assert source_kind("import:ics") == "import"
    assert source_kind("crm:hubspot") == "crm"
    assert source_kind("springboard.notifier.links") == "springboard"
    addresses = {source_kind(f"person{i}@example.com:x") for i in range(300)}
    assert addresses == {"other"}


async def test_a_replay_is_known_by_its_signed_timestamp_not_by_when_it_arrived(
    endpoint, monkeypatch
) -> None:
    start, payload = time.time(), body()
    signed_ahead = int(start) + 290
    assert (await post(endpoint, payload, timestamp=signed_ahead)).status_code == 202
    monkeypatch.setattr(time, "time", lambda: start + 305)  # past the window since arrival
    again = await post(endpoint, payload, timestamp=signed_ahead)
    assert again.status_code == 401
    assert "replay" in again.json()["error"]


class FailingOnce(FakePublisher):
    async def publish_all(self, messages) -> int:
        if not hasattr(self, "failed"):
            self.failed = True
            raise ConnectionError("broker paused")
        return await super().publish_all(messages)


async def test_an_honest_retry_after_a_failure_is_not_a_replay() -> None:
    endpoint = WebhookEndpoint(
        FailingOnce(), secret=SECRET, max_bytes=10_000, tolerance_seconds=300
    )
    now, payload = int(time.time()), body()
    transport = httpx.ASGITransport(app=endpoint, raise_app_exceptions=False)
    headers = {
        "X-Springboard-Timestamp": str(now),
        "X-Springboard-Signature": sign(SECRET, now, payload),
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        first = await client.post("/webhooks/crm", content=payload, headers=headers)
    assert first.status_code == 500
    assert (await post(endpoint, payload, timestamp=now)).status_code == 202


async def raw_call(endpoint, headers: list, payload: bytes) -> int:
    sent = []

    async def receive():
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message):
        sent.append(message)

    await endpoint({"type": "http", "method": "POST", "headers": headers}, receive, send)
    return sent[0]["status"]


async def test_unauthenticated_oddities_get_a_4xx_never_a_500(endpoint) -> None:
    now, payload = int(time.time()), body()
    timestamp = (b"x-springboard-timestamp", str(now).encode())
    assert (
        await raw_call(
            endpoint, [timestamp, (b"x-springboard-signature", "v1=ü".encode())], payload
        )
        == 401
    )
    assert await raw_call(endpoint, [timestamp, (b"content-length", b"x")], payload) == 400
    nested = b"[" * 100_000 + b"]" * 100_000
    big = WebhookEndpoint(
        FakePublisher(), secret=SECRET, max_bytes=1_000_000, tolerance_seconds=300
    )
    assert (await post(big, nested)).status_code == 422
