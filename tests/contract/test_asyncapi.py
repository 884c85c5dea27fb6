"""The AsyncAPI documents are the contract between the services: generated from the code,
committed, complete, and agreed on by every topic's producers and consumers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from services import asyncapi
from shared import contract, topics
from shared.messages import TOPIC_PAYLOADS

DOCUMENTS = asyncapi.documents()


def test_committed_asyncapi_documents_match_the_code() -> None:
    assert asyncapi.main(["--check"]) == 0, "run `make asyncapi` and commit infra/asyncapi/"


def resolved(document: dict[str, Any], node: Any) -> Any:
    """``node`` with every ``$ref`` into the document replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[unquote(part).replace("~1", "/").replace("~0", "~")]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolved(document, target), **resolved(document, siblings)}
        return {k: resolved(document, v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(document, v) for v in node]
    return node


def payloads(document: dict[str, Any], action: str) -> dict[str, Any]:
    """Topic -> its message's payload schema, resolved, for the operations of ``action``
    (``send``: published, ``receive``: consumed)."""
    out: dict[str, Any] = {}
    for operation in document["operations"].values():
        if operation["action"] != action:
            continue
        channel = resolved(document, operation["channel"])
        (message,) = channel["messages"].values()
        out[channel["address"]] = resolved(document, message)["payload"]
    return out


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_every_consumed_channel_carries_its_envelope_schema(service: str) -> None:
    consumed = payloads(DOCUMENTS[service], "receive")
    assert set(consumed) == set(contract.CONSUMES[service])
    for topic, payload in consumed.items():
        assert payload.get("title") != "EmptyPayload", topic
        assert {"id", "type", "owner_id", "data"} <= set(payload["properties"]), topic


def test_every_topic_is_declared_by_a_producer_dead_letters_and_erasures_included() -> None:
    published = {t for doc in DOCUMENTS.values() for t in payloads(doc, "send")}
    # Preferences come from the owner's commands only; nothing consumes suggestions.
    every = set(topics.all_topics()) - {topics.PREFERENCES, topics.dead_letter(topics.SUGGESTIONS)}
    assert every <= published, sorted(every - published)
    assert topics.ERASURES in published
    assert topics.ERASURE_CONFIRMATIONS in published
    assert topics.dead_letter(topics.CONTACTS) in published


def test_each_topics_producers_and_consumers_agree_on_its_schema() -> None:
    seen: dict[str, list[tuple[str, str]]] = {}
    schemas: dict[str, list[str]] = {}
    for service, document in DOCUMENTS.items():
        for action in ("send", "receive"):
            for topic, payload in payloads(document, action).items():
                seen.setdefault(topic, []).append((service, action))
                schemas.setdefault(topic, []).append(json.dumps(payload, sort_keys=True))
    shared_topics = [t for t, users in seen.items() if len(users) > 1]
    assert topics.NETWORK_UPDATES in shared_topics
    assert topics.RECOMMENDATIONS in shared_topics
    for topic in shared_topics:
        assert len(set(schemas[topic])) == 1, f"{topic}: {seen[topic]} disagree"


def test_the_field_descriptions_written_in_the_messages_reach_the_contract() -> None:
    contacts = payloads(DOCUMENTS["ingest"], "receive")[topics.CONTACTS]
    fields = contacts["properties"]["data"]["properties"]
    model = TOPIC_PAYLOADS[topics.CONTACTS]
    for name, field in model.model_fields.items():
        if field.description:
            assert fields[name]["description"] == field.description, name
