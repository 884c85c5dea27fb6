"""Offsets committed behind the work: a batch's offsets are committed once everything it
published is confirmed, while the consumer already processes the next batch.

Waiting for the broker's confirmations and the offset commit took about a tenth of every
batch in ingest, with the process idle. Here they overlap the next batch's work, and the
guarantee stays the same: no offset is committed before the effects of every record below
it are durable (the database commits inside the batch's work; the published records are
confirmed before the commit). A batch whose confirmations fail stops every later commit,
and the consumer is rewound to the first record not committed: what follows it is
processed again, which replays are built for (upserts, derived message ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

logger = logging.getLogger("springboard")


class _Confirmations(list[asyncio.Future[Any]]):
    """A batch's confirmations, collected while its work runs (``open``)."""

    open = True


_collecting: ContextVar[_Confirmations | None] = ContextVar(
    "springboard_confirmations", default=None
)


def defer_confirmation(futures: Sequence[asyncio.Future[Any]]) -> bool:
    """Inside ``collecting_confirmations``, keep ``futures`` for the batch's commit and say
    so. Elsewhere (background loops, webhooks), and in a task that outlives the batch it
    was started in, the publisher waits for them itself."""
    collected = _collecting.get()
    if collected is None or not collected.open:
        return False
    collected.extend(futures)
    return True


@contextlib.contextmanager
def collecting_confirmations() -> Iterator[list[asyncio.Future[Any]]]:
    """The confirmations of everything published inside, for ``CommitsBehind.after``."""
    collected = _Confirmations()
    token = _collecting.set(collected)
    try:
        yield collected
    finally:
        collected.open = False
        _collecting.reset(token)


@dataclass(frozen=True, slots=True, eq=False)  # one batch is one batch: by identity
class _Batch:
    first: dict[TopicPartition, int]  # each partition's first offset in the batch
    following: dict[TopicPartition, int]  # the offset to commit: one past its last record

    @classmethod
    def of(cls, records: Iterable[ConsumerRecord[Any, Any]]) -> _Batch:
        first: dict[TopicPartition, int] = {}
        following: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            first[partition] = min(first.get(partition, record.offset), record.offset)
            following[partition] = max(following.get(partition, 0), record.offset + 1)
        return cls(first, following)


class CommitsBehind:
    """One consumer's commits, in the order its batches were read."""

    def __init__(self, consumer: AIOKafkaConsumer, name: str) -> None:
        self.consumer = consumer
        self._name = name
        self._tail: asyncio.Future[None] | None = None
        self._uncommitted: list[_Batch] = []  # in order; a failed one and those after it stay
        self._failed = False

    @property
    def failed(self) -> bool:
        """A batch's published records were not confirmed: what follows it must be read again."""
        return self._failed

    def after(
        self, records: Sequence[ConsumerRecord[Any, Any]], confirmations: list[asyncio.Future[Any]]
    ) -> None:
        """Commit the batch of ``records`` once ``confirmations`` and every batch before it
        are done."""
        batch = _Batch.of(records)
        self._uncommitted.append(batch)
        self._tail = asyncio.ensure_future(self._commit(self._tail, batch, confirmations))

    async def _commit(
        self,
        previous: asyncio.Future[None] | None,
        batch: _Batch,
        confirmations: list[asyncio.Future[Any]],
    ) -> None:
        if previous is not None:
            await previous  # never raises
        try:
            await asyncio.gather(*confirmations)
        except Exception:
            if not self._failed:
                logger.exception("%s: published records were not confirmed", self._name)
            self._failed = True
        if self._failed:
            return
        owned = self.consumer.assignment()
        offsets = {p: o for p, o in batch.following.items() if p in owned}
        try:
            if offsets:
                await self.consumer.commit(offsets)  # type: ignore[arg-type]
        except Exception as error:  # KafkaError mostly: a rebalance, a coordinator away
            # The effects are durable: at worst these records are read again after a
            # restart or a rebalance, which a later batch's commit usually makes moot.
            logger.warning("%s: offsets not committed (%s)", self._name, error)
        self._uncommitted.remove(batch)

    async def settle(self) -> None:
        """Wait until every batch read so far is committed or has failed."""
        if self._tail is not None:
            await self._tail

    async def rewind(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Read again from the first record not committed: of the failed batches, or of
        ``records`` (the batch in hand, whose work did not finish)."""
        await self.settle()
        earliest: dict[TopicPartition, int] = {}
        for batch in [*self._uncommitted, _Batch.of(records)]:
            for partition, offset in batch.first.items():
                earliest[partition] = min(earliest.get(partition, offset), offset)
        owned = self.consumer.assignment()
        for partition, offset in earliest.items():
            if partition in owned:
                self.consumer.seek(partition, offset)
        self._uncommitted.clear()
        self._failed = False


class SettleBeforeRevoking(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before a rebalance takes partitions away, finish their commits: the instance that
    gets them reads on from there instead of again."""

    def __init__(self) -> None:
        self.commits: CommitsBehind | None = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        if self.commits is not None:
            await self.commits.settle()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None
