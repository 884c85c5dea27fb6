"""Which service consumes and publishes which topic: the AsyncAPI contract, in one place.

Each service subscribes to ``CONSUMES[name]`` and declares ``PUBLISHES[name]``, with the
payload ``shared.messages.TOPIC_PAYLOADS`` gives each topic, so a topic's producers and
consumers cannot disagree on its schema. FastStream names a batch subscriber's payload
after its handler's parameters, which are raw records here (each handler validates them
itself); ``with_payloads`` writes each consumed channel's real schema into the document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from faststream.kafka import KafkaRouter
from pydantic import TypeAdapter

from shared import topics
from shared.messages import TOPIC_PAYLOADS, DeadLettered, Envelope

if TYPE_CHECKING:
    from shared.consumer import Process
    from shared.service import ServiceRuntime

CONSUMES: dict[str, tuple[str, ...]] = {
    "ingest": topics.INPUTS,
    "recommender": (topics.NETWORK_UPDATES, topics.FEEDBACK),
    # Goals too: the owner's page shows them as they were set.
    "notifier": (topics.RECOMMENDATIONS, topics.PREFERENCES, topics.GOALS, topics.ERASURES),
}

_OWN: dict[str, tuple[str, ...]] = {
    # Ingest's webhook endpoint puts what a CRM posts on the input topics.
    "ingest": (topics.NETWORK_UPDATES, topics.ERASURES, *topics.INPUTS),
    "recommender": (topics.RECOMMENDATIONS,),
    # The notifier's one-click links and the owner's page put the owner's answers, goals
    # and preferences on the input topics.
    "notifier": (topics.SUGGESTIONS, topics.FEEDBACK, topics.GOALS, topics.PREFERENCES),
}

PUBLISHES: dict[str, tuple[str, ...]] = {
    name: (
        *_OWN[name],
        topics.ERASURE_CONFIRMATIONS,
        *(topics.dead_letter(t) for t in CONSUMES[name]),
    )
    for name in CONSUMES
}
"""What each service writes: its own topics, erasure confirmations, and the dead letters
of what it consumes."""


def payload_of(topic: str) -> Any:
    """The envelope type on ``topic``."""
    if topics.is_dead_letter(topic):
        return Envelope[DeadLettered]
    payload = TOPIC_PAYLOADS[topic]
    return Envelope[payload]  # type: ignore[valid-type]


def subscribed(runtime: ServiceRuntime[Any], title: str, process: Process) -> KafkaRouter:
    """A router with ``process`` subscribed to what the runtime's service consumes, and
    what it publishes declared (for the AsyncAPI document)."""
    router = runtime.router()
    runtime.consumer.subscribe(router, *CONSUMES[runtime.name], title=title, process=process)
    declare_publishers(router, runtime.name)
    return router


def declare_publishers(router: KafkaRouter, service: str) -> None:
    for topic in PUBLISHES[service]:
        router.publisher(
            topic,
            title=f"{service}-publishes:{topic}",
            schema=payload_of(topic),
            description=_description(topic),
        )


def _description(topic: str) -> str | None:
    if topics.is_dead_letter(topic):
        return "What this service refused, with the reason and where it came from."
    payload = TOPIC_PAYLOADS[topic]
    doc = getattr(payload, "__doc__", None)
    return doc.strip().split("\n\n")[0] if doc and isinstance(payload, type) else None


def with_payloads(document: dict[str, Any], service: str) -> dict[str, Any]:
    """``document`` with each consumed channel's message carrying its topic's envelope
    schema (and the schemas it refers to)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    messages = document["components"].setdefault("messages", {})
    schemas.pop("EmptyPayload", None)
    for operation in document.get("operations", {}).values():
        if operation.get("action") != "receive":
            continue
        channel_key = operation["channel"]["$ref"].rsplit("/", 1)[1]
        channel = document["channels"][channel_key]
        topic = channel["address"]
        if topic not in CONSUMES[service]:
            continue
        schema = _asyncapi_style(
            TypeAdapter(payload_of(topic)).json_schema(ref_template="#/components/schemas/{model}")
        )
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        title = schema.get("title", topic)
        schemas.setdefault(title, schema)
        for reference in channel["messages"].values():
            message = messages[reference["$ref"].rsplit("/", 1)[1]]
            message["payload"] = {"$ref": f"#/components/schemas/{quote(title)}"}
            message["title"] = f"{topic}:Message"
    return document


def _asyncapi_style(node: Any) -> Any:
    """A JSON schema as AsyncAPI 3 writes it, and FastStream writes its publishers': a
    discriminator is the name of its property (OpenAPI's is an object with a mapping)."""
    if isinstance(node, list):
        return [_asyncapi_style(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _asyncapi_style(value) for key, value in node.items()}
    if isinstance(out.get("discriminator"), dict) and "propertyName" in out["discriminator"]:
        out["discriminator"] = out["discriminator"]["propertyName"]
    return out
