"""Re-scoring loop: owners whose network settled (debounce) or whose list is a day old."""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from services.recommender import artefacts, network_map, store
from services.recommender.failures import OwnerFailures
from services.recommender.models import RecOwnerState
from services.recommender.scoring import recommend, serving_rankers
from services.recommender.settings import RecommenderSettings
from shared import topics
from shared.clock import Clock, SystemClock, as_utc
from shared.messages import RecommendationsMade, wrap
from shared.messages.recommendations import SuggestionKind
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard.recommender")

SOURCE = "springboard.recommender"
SCORED_TOGETHER = 8
"""Owners scored in one transaction and published together: fewer round trips, while the
first of them waits for at most seven others."""
PREPARED_AFTER = 0.5
"""An owner quiet for this share of the debounce has their list prepared then, as of the
moment they will settle; it is published when they settle if nothing changed meanwhile,
so the scoring falls inside the wait instead of after it."""


class Scheduler:
    def __init__(
        self,
        runtime: ServiceRuntime[UnitOfWork],
        settings: RecommenderSettings,
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.runtime = runtime
        self.settings = settings
        self._correlation: dict[str, str | None] = {}
        self._woken = asyncio.Event()
        # When owners changed lately become due (monotonic): a heap of (time, owner), an
        # entry stale once the owner changed again (``_settles_at`` holds the latest).
        self._settling: list[tuple[float, str]] = []
        self._settles_at: dict[str, float] = {}
        self._deferred = False  # owners due were held back while updates were queued
        # Owners to prepare a list for (monotonic time, when they settle, owner), an entry
        # stale once they changed again; and the lists prepared, by the change they reflect.
        self._preparing: list[tuple[float, float, str]] = []
        self._prepared: dict[str, tuple[datetime, RecommendationsMade]] = {}
        store = settings.model_dir or settings.data_dir / "models"
        self.models = artefacts.load_current(store) if store.exists() else {}
        self.published = Counter(
            "springboard_recommender_recommendations_total",
            "Ranked items published, by kind.",
            ["kind"],
            registry=runtime.registry,
        )
        self.model = Gauge(
            "springboard_recommender_model_info",
            "The model serving each kind (value 1).",
            ["kind", "version"],
            registry=runtime.registry,
        )
        for kind, ranker in serving_rankers(self.models).items():
            self.model.labels(kind.value, ranker.version).set(1)
        # Set by training and evaluation (the prior is neither trained nor evaluated yet).
        self.trained_at = Gauge(
            "springboard_recommender_model_trained_timestamp_seconds",
            "When the serving model of each kind was trained.",
            ["kind"],
            registry=runtime.registry,
        )
        self.ndcg = Gauge(
            "springboard_recommender_ndcg_at_10",
            "NDCG@10 on the latest time-split evaluation: serving model and best baseline.",
            ["kind", "model"],
            registry=runtime.registry,
        )
        self.training_seconds = Gauge(
            "springboard_recommender_training_seconds",
            "How long the serving model of each kind took to train.",
            ["kind"],
            registry=runtime.registry,
        )
        self._describe_models()
        self.failures = OwnerFailures(runtime.registry)
        self.latency = Histogram(
            "springboard_recommender_scoring_seconds",
            "Time to score one owner.",
            registry=runtime.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    def use_models(self, models: dict[SuggestionKind, Any]) -> None:
        """Serve newly promoted models from the next scoring on."""
        self.models = models
        self._prepared.clear()  # made by the models before
        self.model.clear()
        for kind, ranker in serving_rankers(self.models).items():
            self.model.labels(kind.value, ranker.version).set(1)
        self._describe_models()

    def _describe_models(self) -> None:
        """Model age, held-out NDCG and training time of the promoted models, as metrics."""
        for kind, model in self.models.items():
            metadata = getattr(model, "metadata", {})
            metrics = metadata.get("metrics", {})
            if "created_at" in metadata:
                created = datetime.fromisoformat(metadata["created_at"])
                self.trained_at.labels(kind.value).set(created.timestamp())
            if "ndcg@10_candidate" in metrics:
                self.ndcg.labels(kind.value, "serving").set(metrics["ndcg@10_candidate"])
            if "training_seconds" in metrics:
                self.training_seconds.labels(kind.value).set(metrics["training_seconds"])

    def _recommend(self, session: UnitOfWork, owner_id: str, now: datetime) -> RecommendationsMade:
        started = time.perf_counter()
        snapshot = store.load_snapshot(
            session, owner_id=owner_id, now=now, horizon=self.settings.horizon
        )
        made = recommend(
            snapshot,
            per_kind=self.settings.per_kind,
            max_per_company=self.settings.max_per_company,
            models=self.models,
        )
        # The map travels with the list: the owner's page reads it from the notifier's store.
        network = network_map.summary(network_map.build(snapshot))
        self.latency.observe(time.perf_counter() - started)
        return made.model_copy(update={"network": network})

    def _score(self, session: UnitOfWork, owner_id: str, now: datetime) -> RecommendationsMade:
        """The owner's list: the one prepared for their latest change, or scored now."""
        state = session.get(RecOwnerState, owner_id)
        prepared = self._prepared.pop(owner_id, None)
        if (
            prepared is not None
            and state is not None
            and state.changed_at is not None
            and prepared[0] == as_utc(state.changed_at)
        ):
            made = prepared[1]
        else:
            made = self._recommend(session, owner_id, now)
        oldest = as_utc(state.input_at) if state and state.input_at else None
        self._correlation[owner_id] = state.correlation_id if state else None
        return made.model_copy(update={"oldest_input_at": oldest})

    def _alone(
        self,
        session: UnitOfWork,
        owner_id: str,
        work: Any,
        now: datetime,
    ) -> RecommendationsMade | None:
        """``work(session, owner_id, now)`` in a savepoint of its own: if it fails, only
        this owner's work is rolled back and put off (``OwnerFailures``), and the others in
        the same transaction go on."""
        try:
            with session.begin_nested():
                made: RecommendationsMade = work(session, owner_id, now)
        except Exception as error:
            self._prepared.pop(owner_id, None)
            self.failures.failed(owner_id, error)
            return None
        self.failures.succeeded(owner_id)
        return made

    async def prepare_quiet(self, looked_at: float) -> int:
        """Prepare the lists of owners quiet since ``PREPARED_AFTER`` of the debounce
        before ``looked_at``; returns how many."""
        owners = []
        while (entry := self._next_preparing()) is not None and entry[0] <= looked_at:
            owners.append(heapq.heappop(self._preparing)[2])
        owners = self.runtime.partitions.owned_keys(topics.NETWORK_UPDATES, owners)
        if not owners:
            return 0
        debounce = timedelta(seconds=self.settings.debounce_seconds)

        def prepare_all(session: UnitOfWork) -> dict[str, tuple[datetime, RecommendationsMade]]:
            out = {}
            for owner_id in owners:
                if not self.failures.may_try(owner_id):
                    continue
                # The change first, then the network: one committed in between makes the
                # list stale (scored again when due), never taken for newer than it is.
                state = session.get(RecOwnerState, owner_id)
                if state is None or state.changed_at is None:
                    continue
                changed = as_utc(state.changed_at)
                settled = max(changed + debounce, self.clock.now())  # a late look: now
                made = self._alone(session, owner_id, self._recommend, settled)
                if made is not None:
                    out[owner_id] = (changed, made)
            return out

        prepared = await self.runtime.database.in_transaction(prepare_all)
        self._prepared.update(prepared)
        return len(prepared)

    async def score_owners(self, owner_ids: list[str]) -> list[RecommendationsMade]:
        """Score owners, publish their ranked lists, then mark them scored: one transaction
        to score them all, one wait for the broker, one transaction to mark them."""
        scored_at = self.clock.now()

        def score_all(session: UnitOfWork) -> dict[str, RecommendationsMade]:
            scored = {}
            for owner_id in owner_ids:
                made = self._alone(session, owner_id, self._score, scored_at)
                if made is not None:
                    scored[owner_id] = made
            return scored

        by_owner = await self.runtime.database.in_transaction(score_all)
        owner_ids = list(by_owner)
        made = list(by_owner.values())
        envelopes = [
            wrap(
                ranked,
                owner_id=owner_id,
                source=SOURCE,
                time=scored_at,
                correlation_id=self._correlation.pop(owner_id, None),
            )
            for owner_id, ranked in zip(owner_ids, made, strict=True)
        ]
        await self.runtime.publisher.publish_all((topics.RECOMMENDATIONS, e) for e in envelopes)

        def finish(session: UnitOfWork) -> None:
            for owner_id, ranked in zip(owner_ids, made, strict=True):
                if not ranked.items and store.forget_if_empty(session, owner_id=owner_id):
                    continue  # an erased owner: nothing of theirs is kept, this row neither
                store.record_issued(session, owner_id=owner_id, items=ranked.items, at=scored_at)
                store.mark_scored(session, owner_id=owner_id, at=scored_at)

        # Marked scored only after publishing: a crash in between re-scores (same ids).
        await self.runtime.database.in_transaction(finish)
        for envelope in envelopes:
            for item in envelope.data.items:
                self.published.labels(item.kind.value).inc()
            logger.info(
                "scored owner %s: %d items",
                envelope.owner_id,
                len(envelope.data.items),
                extra={"owner_id": envelope.owner_id, "message_id": envelope.id},
            )
        return made

    async def run_once(self) -> int:
        """Score every owner that is due; returns how many were scored."""
        now = self.clock.now()
        due = await self.runtime.database.in_transaction(
            lambda s: store.owners_due(
                s,
                now=now,
                debounce=timedelta(seconds=self.settings.debounce_seconds),
                refresh=timedelta(hours=self.settings.refresh_hours),
            )
        )
        # Each instance of the group scores the owners of its own partitions.
        mine = set(
            self.runtime.partitions.owned_keys(topics.NETWORK_UPDATES, [s.owner_id for s in due])
        )
        due = [s for s in due if s.owner_id in mine and self.failures.may_try(s.owner_id)]
        self._deferred = False
        if due and await self.runtime.partitions.unread_messages() > 0:
            # Updates are still queued: wait for them (up to max_wait) rather than spend an
            # owner's budget on a half-imported network.
            limit = now - timedelta(seconds=self.settings.max_wait_seconds)
            waiting = len(due)
            due = [s for s in due if s.changed_at is not None and as_utc(s.changed_at) <= limit]
            self._deferred = len(due) < waiting
        for start in range(0, len(due), SCORED_TOGETHER):
            await self.score_owners([s.owner_id for s in due[start : start + SCORED_TOGETHER]])
        return len(due)

    def wake(self, owner_ids: Sequence[str]) -> None:
        """Updates of these owners were applied: each is due once the debounce has passed."""
        settles = self.clock.monotonic() + self.settings.debounce_seconds
        prepare = settles - self.settings.debounce_seconds * (1 - PREPARED_AFTER)
        for owner_id in owner_ids:
            self._settles_at[owner_id] = settles
            heapq.heappush(self._settling, (settles, owner_id))
            heapq.heappush(self._preparing, (prepare, settles, owner_id))
            self._prepared.pop(owner_id, None)
        self._woken.set()

    def _next_settling(self) -> float | None:
        """When the next owner settles (monotonic), skipping entries a later change replaced."""
        while self._settling:
            settles, owner_id = self._settling[0]
            if self._settles_at.get(owner_id) == settles:
                return settles
            heapq.heappop(self._settling)
        return None

    def _next_preparing(self) -> tuple[float, float, str] | None:
        """The next owner to prepare a list for, skipping entries a later change replaced."""
        while self._preparing:
            entry = self._preparing[0]
            if self._settles_at.get(entry[2]) == entry[1]:
                return entry
            heapq.heappop(self._preparing)
        return None

    def _forget_settled(self, looked_at: float) -> None:
        """Owners settled by ``looked_at`` were found by the look that started then; one
        settling while it ran stays, so the next look comes at once."""
        while (settles := self._next_settling()) is not None and settles <= looked_at:
            _, owner_id = heapq.heappop(self._settling)
            del self._settles_at[owner_id]
            # Not taken by the look (held back, or no longer this instance's): made again
            # when due, rather than kept for an owner who may never come back.
            self._prepared.pop(owner_id, None)

    def _settled(self, now: float) -> bool:
        settles = self._next_settling()
        return settles is not None and settles <= now

    def _next_prepare_at(self) -> float | None:
        """When the next owner is quiet enough to prepare a list for (monotonic)."""
        preparing = self._next_preparing()
        return preparing[0] if preparing is not None else None

    def _quiet(self, now: float) -> bool:
        prepare_at = self._next_prepare_at()
        return prepare_at is not None and prepare_at <= now

    def _worth_a_look(self) -> bool:
        """After a batch was applied: an owner has settled, or owners were deferred while
        updates were queued. Otherwise nothing can be due, so the database is not asked
        (a busy consumer applies a batch every few milliseconds)."""
        settled = self._settled(self.clock.monotonic())
        return settled or self._deferred or self.settings.debounce_seconds <= 0

    def _until_next_look(self) -> float:
        """Seconds to the next scan, or sooner to the moment a changed owner becomes due or
        quiet enough to prepare for."""
        wait = self.settings.scan_interval_seconds
        moments = [m for m in (self._next_settling(), self._next_prepare_at()) if m is not None]
        if not moments:
            return wait
        return max(0.0, min(wait, min(moments) - self.clock.monotonic()))

    async def _next_look(self) -> bool:
        """Until the scan is due, an owner settles, or an applied batch makes a look worth it
        (True); or until an owner is quiet enough to prepare a list for (False: no look)."""
        while True:
            if not await self.clock.wait(self._woken, self._until_next_look()):
                now = self.clock.monotonic()
                return self._settled(now) or not self._quiet(now)
            self._woken.clear()
            if self._worth_a_look():
                return True
            if self._quiet(self.clock.monotonic()):
                return False

    async def run_forever(self) -> None:
        look = True
        while True:
            self._woken.clear()  # a wake-up while scoring is kept for the next round
            looked_at = self.clock.monotonic()
            try:
                if self.settings.debounce_seconds > 0:
                    await self.prepare_quiet(looked_at)
                if look:
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("re-scoring failed; trying again")
                await self.clock.sleep(1.0)
            if look:
                self._forget_settled(looked_at)
            if self.settings.debounce_seconds > 0:
                # A fresh change is never due at once (an owner settling meanwhile is in
                # ``_settling``), but the next applied batch is the moment nothing is
                # queued, when owners deferred wait no longer (see run_once).
                self._woken.clear()
            look = await self._next_look()
