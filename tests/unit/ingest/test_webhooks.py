from __future__ import annotations

import json
import time

import httpx
import pytest

from services.ingest.webhooks import WebhookEndpoint, sign
from shared import topics
from shared.messages import encode, wrap
from shared.messages.inputs import ContactUpserted, EraseOwner

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
    assert response.status_code == 202 and response.json() == {"accepted": 1}
    [(topic, envelope)] = endpoint.publisher.sent
    assert topic == topics.CONTACTS and envelope.data.full_name == "Anna Berg"


async def test_a_batch_of_envelopes_of_different_types_is_accepted(endpoint) -> None:
    batch = json.dumps(
        [json.loads(body()), json.loads(encode(wrap(EraseOwner(), owner_id="o1", source="crm")))]
    ).encode()
    response = await post(endpoint, batch)
    assert response.status_code == 202
    assert [t for t, _ in endpoint.publisher.sent] == [topics.CONTACTS, topics.ERASURE]


async def test_a_bad_signature_is_refused_and_nothing_is_published(endpoint) -> None:
    response = await post(endpoint, body(), secret="wrong")
    assert response.status_code == 401 and endpoint.publisher.sent == []


async def test_a_timestamp_outside_the_replay_window_is_refused(endpoint) -> None:
    response = await post(endpoint, body(), timestamp=int(time.time()) - 3600)
    assert response.status_code == 401 and "window" in response.json()["error"]


async def test_the_same_signed_request_twice_is_a_replay(endpoint) -> None:
    now, payload = int(time.time()), body()
    assert (await post(endpoint, payload, timestamp=now)).status_code == 202
    again = await post(endpoint, payload, timestamp=now)
    assert again.status_code == 401 and "replay" in again.json()["error"]


async def test_an_oversized_body_is_refused_before_reading_it_all(endpoint) -> None:
    response = await post(endpoint, b"[" + b" " * 20_000 + b"]")
    assert response.status_code == 413


async def test_invalid_envelopes_get_their_reason_and_nothing_is_published(endpoint) -> None:
    raw = json.loads(body())
    raw["data"]["emails"] = ["not-an-email"]
    response = await post(endpoint, json.dumps(raw).encode())
    assert response.status_code == 422 and "emails" in response.json()["error"]
    unknown = await post(endpoint, b'{"type": "springboard.nothing"}')
    assert unknown.status_code == 422
    assert endpoint.publisher.sent == []


async def test_without_a_secret_the_endpoint_is_off() -> None:
    off = WebhookEndpoint(FakePublisher(), secret=None, max_bytes=10, tolerance_seconds=1)
    assert (await post(off, body())).status_code == 503


def test_the_source_label_takes_values_from_a_known_set_only() -> None:
    from services.ingest.handlers import source_kind

    assert source_kind("import:ics") == "import"
    assert source_kind("crm:hubspot") == "crm"
    assert source_kind("springboard.notifier.links") == "springboard"
    addresses = {source_kind(f"person{i}@example.com:x") for i in range(300)}
    assert addresses == {"other"}
