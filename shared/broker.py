"""The Kafka broker factory, topic creation, and turning raw records into envelopes or dead letters.

Services consume in batches (one offset commit per batch, after the batch's effects are
durable) and validate each record themselves, so that one bad record becomes a dead
letter and never blocks or drops the good ones next to it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.producer.message_accumulator import BatchBuilder
from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from shared import topics
from shared.fast_paths import partition_for, started_producer, wait_on_metadata
from shared.messages import DeadLettered, Envelope, encode, envelope_adapter, wrap
from shared.messages.envelope import OWNER_ID_PATTERN, derived_id, validation_reason
from shared.messages.network import NetworkChanges
from shared.settings import KafkaSettings, SaslMechanism, SecurityProtocol

MAX_MESSAGE_BYTES = 1_000_000
"""Larger records are dead-lettered unread (Kafka's default message size limit)."""
DEAD_LETTER_MAX_BYTES = 2 * 1024 * 1024
"""Largest record the services produce, and the limit dead-letter topics are created with:
a dead letter carries its original base64-encoded, so one of Kafka's default 1 MiB
records becomes about 1.4 MB."""
_ORIGINAL_KEPT_BYTES = (DEAD_LETTER_MAX_BYTES - 64 * 1024) * 3 // 4
"""Of an original larger still, a dead letter keeps this much (the record stays where it was)."""
BATCHED_UP_TO = 64 * 1024
"""Records published up to this size go in record batches; larger ones one at a time."""


def _ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None)
    if kafka.ssl_certfile:
        context.load_cert_chain(
            str(kafka.ssl_certfile), str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None
        )
    return context


def security_for(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream security object for the configured protocol (None for plaintext)."""
    protocol = kafka.security_protocol
    if protocol is SecurityProtocol.PLAINTEXT:
        return None
    use_ssl = protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)
    context = _ssl_context(kafka) if use_ssl else None
    if protocol is SecurityProtocol.SSL:
        return BaseSecurity(ssl_context=context, use_ssl=True)
    assert kafka.sasl_username
    assert kafka.sasl_password
    classes = {
        SaslMechanism.PLAIN: SASLPlaintext,
        SaslMechanism.SCRAM_SHA_256: SASLScram256,
        SaslMechanism.SCRAM_SHA_512: SASLScram512,
    }
    sasl_class = classes[kafka.sasl_mechanism or SaslMechanism.PLAIN]
    return sasl_class(
        username=kafka.sasl_username,
        password=kafka.sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=use_ssl,
    )


def make_broker(
    kafka: KafkaSettings, *, client_id: str, middlewares: Sequence[Any] = (), **kwargs: Any
) -> KafkaBroker:
    return KafkaBroker(
        kafka.bootstrap_servers,
        client_id=client_id,
        max_request_size=DEAD_LETTER_MAX_BYTES,
        security=security_for(kafka),
        middlewares=tuple(middlewares),
        logger=logging.getLogger(f"springboard.{client_id}.broker"),
        **kwargs,
    )


def aiokafka_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection options for plain aiokafka clients (admin, producers, readers)."""
    options: dict[str, Any] = {"bootstrap_servers": kafka.bootstrap_servers}
    security = security_for(kafka)
    if security is None:
        return options
    options["security_protocol"] = kafka.security_protocol.value
    options["ssl_context"] = security.ssl_context
    if kafka.sasl_mechanism:
        options["sasl_mechanism"] = kafka.sasl_mechanism.value
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = (
            kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        )
    return options


def admin_client(kafka: KafkaSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**aiokafka_options(kafka))


def topic_config(kafka: KafkaSettings, name: str) -> dict[str, str]:
    """Every topic forgets its records after the retention (they name people: an erased
    person is gone from the topics then too; docs/adr/0001-erasure.md); dead-letter topics
    keep theirs longer, for whoever investigates, and take records of any size."""
    days = kafka.dead_letter_retention_days if topics.is_dead_letter(name) else kafka.retention_days
    config = {"retention.ms": str(int(days * 86_400_000)), "cleanup.policy": "delete"}
    if topics.is_dead_letter(name):
        config["max.message.bytes"] = str(DEAD_LETTER_MAX_BYTES)
    return config


async def ensure_topics(kafka: KafkaSettings, names: Iterable[str] | None = None) -> None:
    """Create the system's topics (prefixed) with the configured partitions, if missing."""
    wanted = [kafka.topic_prefix + name for name in (names or topics.all_topics())]
    admin = admin_client(kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(n, kafka.partitions, 1, topic_configs=topic_config(kafka, n))
            for n in wanted
            if n not in existing
        ]
        if missing:
            # Another service may have created them a moment ago.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


@dataclass(frozen=True, slots=True)
class Decoded:
    """A record that passed validation, with its envelope."""

    topic: str
    record: ConsumerRecord[Any, Any]
    envelope: Envelope[Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that failed validation, ready for its dead-letter topic."""

    topic: str
    owner_key: bytes | None
    dead_letter: Envelope[Any]
    category: str = "invalid"
    """oversized, invalid, wrong_key or unapplied: a bounded label for metrics."""


def _key_text(key: bytes | None) -> str | None:
    if key is None:
        return None
    try:
        return key.decode()
    except UnicodeDecodeError:
        return base64.b64encode(key).decode()


def reject(
    record: ConsumerRecord[Any, Any],
    *,
    topic: str,
    service: str,
    reason: str,
    category: str = "invalid",
) -> Rejected:
    value = record.value or b""
    if len(value) > _ORIGINAL_KEPT_BYTES:
        reason = (
            f"{reason[:1500]} (the original has {len(value)} bytes: the first "
            f"{_ORIGINAL_KEPT_BYTES} are kept here, the whole record stays at "
            f"{record.topic} {record.partition}:{record.offset})"
        )
        value = value[:_ORIGINAL_KEPT_BYTES]
    letter = DeadLettered(
        original_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        original_key=_key_text(record.key),
        original_value_b64=base64.b64encode(value).decode(),
        service=service,
        reason=reason[:2000],
        failed_at=datetime.now(UTC),
    )
    owner = _key_text(record.key) or "unknown"
    if not _safe_owner(owner):
        owner = "unknown"
    return Rejected(
        topic, record.key, wrap(letter, owner_id=owner, source=f"springboard.{service}"), category
    )


def _safe_owner(owner: str) -> bool:
    return re.fullmatch(OWNER_ID_PATTERN, owner) is not None


def decode_records(
    records: Iterable[ConsumerRecord[Any, Any]], *, prefix: str, service: str
) -> tuple[list[Decoded], list[Rejected]]:
    """Validate each record against its topic's schema; a bad one becomes a dead letter."""
    good: list[Decoded] = []
    bad: list[Rejected] = []
    for record in records:
        topic = record.topic.removeprefix(prefix)
        value = record.value or b""
        if len(value) > MAX_MESSAGE_BYTES:
            bad.append(
                reject(
                    record,
                    topic=topic,
                    service=service,
                    reason=f"message of {len(value)} bytes exceeds {MAX_MESSAGE_BYTES}",
                    category="oversized",
                )
            )
            continue
        try:
            envelope = envelope_adapter(topic).validate_json(value)
        except ValidationError as error:
            bad.append(
                reject(record, topic=topic, service=service, reason=validation_reason(error))
            )
            continue
        key = _key_text(record.key)
        if key != envelope.owner_id:
            bad.append(
                reject(
                    record,
                    topic=topic,
                    service=service,
                    reason=f"key {key!r} is not the envelope's owner_id {envelope.owner_id!r}",
                    category="wrong_key",
                )
            )
            continue
        good.append(Decoded(topic, record, envelope))
    return good, bad


def encoded_to_fit(
    messages: Iterable[tuple[str, Envelope[Any]]],
) -> Iterator[tuple[str, Envelope[Any], bytes]]:
    """Each message with its encoding. A pack of network changes too large for a record
    (consumers refuse one over ``MAX_MESSAGE_BYTES``) goes as two, in order, each halved
    again while it is still too large."""
    for topic, envelope in messages:
        pending = [envelope]
        while pending:
            current = pending.pop()
            value = encode(current)
            halves = (
                current.data.halves()
                if len(value) > MAX_MESSAGE_BYTES and isinstance(current.data, NetworkChanges)
                else None
            )
            if halves is None:
                yield topic, current, value
                continue
            pending += [
                current.model_copy(update={"id": derived_id(current.id, str(i)), "data": half})
                for i, half in reversed(list(enumerate(halves)))
            ]


class Publisher:
    """Publishes envelopes keyed by owner and waits for every confirmation at once.

    Straight to aiokafka's producer under FastStream's, in record batches of one partition
    each: per message, FastStream's publish (its codec, headers and the broker-wide
    middlewares' publish scope) and aiokafka's ``send`` (a future and an accumulator call)
    cost three times the encoding; a batch is built in one pass and confirmed once. Records
    keep their order within a partition and land where ``send`` would put them.
    """

    def __init__(self, broker: KafkaBroker, prefix: str) -> None:
        self._broker = broker
        self._prefix = prefix

    async def publish_all(self, messages: Iterable[tuple[str, Envelope[Any]]]) -> int:
        producer = started_producer(self._broker)
        batches: dict[tuple[str, int], BatchBuilder] = {}
        futures: list[asyncio.Future[Any]] = []
        known: set[str] = set()
        # The partition of each (topic, key) once per call: the partitioner hashes the key
        # in Python (murmur2, about a microsecond), and a batch names few owners.
        partitions: dict[tuple[str, bytes], int] = {}

        async def flush(slot: tuple[str, int]) -> None:
            """Hand a partition's batch to the producer (it sends it as soon as it can)."""
            futures.append(await producer.send_batch(batches.pop(slot), slot[0], partition=slot[1]))

        count = 0
        for topic, envelope, value in encoded_to_fit(messages):
            count += 1
            name = self._prefix + topic
            if name not in known:
                await wait_on_metadata(producer, name)
                known.add(name)
            key = envelope.owner_id.encode()
            headers = [
                ("content-type", b"application/json"),
                ("correlation_id", (envelope.correlation_id or envelope.id).encode()),
                ("ce-type", envelope.type.encode()),
            ]
            # The partition ``send`` would choose (its partitioner, the topic's metadata).
            partition = partitions.get((name, key))
            if partition is None:
                partition = partition_for(producer, name, key, value)
                partitions[(name, key)] = partition
            slot = (name, partition)
            if len(value) > BATCHED_UP_TO:
                # ``send`` checks the broker's request size limit; what came before goes first.
                if slot in batches:
                    await flush(slot)
                futures.append(
                    await producer.send(name, value, key=key, partition=partition, headers=headers)
                )
                continue
            batch = batches.get(slot)
            if (
                batch is not None
                and batch.append(key=key, value=value, timestamp=None, headers=headers) is not None
            ):
                continue
            if batch is not None:
                await flush(slot)  # full
            # A fresh batch always takes its first record.
            batches[slot] = producer.create_batch()
            batches[slot].append(key=key, value=value, timestamp=None, headers=headers)
        for slot in list(batches):
            await flush(slot)
        if futures:
            await asyncio.gather(*futures)
        return count

    async def dead_letter(self, rejected: Iterable[Rejected]) -> int:
        return await self.publish_all(
            (topics.dead_letter(item.topic), item.dead_letter) for item in rejected
        )


def applied(batch: Iterable[Decoded], failed: Iterable[Rejected]) -> list[Decoded]:
    """The records of ``batch`` that were not rejected (matched by topic, partition, offset)."""
    refused = {
        (r.dead_letter.data.original_topic, r.dead_letter.data.partition, r.dead_letter.data.offset)
        for r in failed
    }
    return [
        d for d in batch if (d.record.topic, d.record.partition, d.record.offset) not in refused
    ]
