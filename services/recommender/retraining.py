"""Retraining inside the recommender: on a schedule, and sooner once enough new answers came.

Training runs in a worker thread on snapshots of every owner; models that beat the
serving ones on held-out weeks are promoted into the model store and served at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

from services.recommender import artefacts, backtest, store, train
from services.recommender.settings import RecommenderSettings
from shared.messages.recommendations import SuggestionKind
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork

logger = logging.getLogger("springboard.recommender.training")


class Retrainer:
    def __init__(
        self, runtime: ServiceRuntime[UnitOfWork], settings: RecommenderSettings, scheduler: Any
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.scheduler = scheduler
        self.store = settings.model_dir or settings.data_dir / "models"
        self._last_run = 0.0
        self._labels_at_last_run = 0

    def _gather(
        self, session: UnitOfWork, now: datetime
    ) -> tuple[list[Any], dict[SuggestionKind, tuple[list[list[float]], list[int]]]]:
        snapshots: list[Any] = []
        feedback: dict[SuggestionKind, tuple[list[list[float]], list[int]]] = {
            kind: ([], []) for kind in SuggestionKind
        }
        owners = store.owners(session)
        if len(owners) > self.settings.train_max_owners:
            # Training memory stays bounded however large the store: a sample of owners.
            owners = sorted(
                random.Random(now.date().isoformat()).sample(owners, self.settings.train_max_owners)
            )
        for owner in owners:
            snapshot = store.load_snapshot(
                session, owner_id=owner, now=now, horizon=self.settings.horizon
            )
            snapshots.append(snapshot)
            for kind, (xs, ys) in backtest.feedback_rows(
                snapshot, store.judged_suggestions(session, owner_id=owner)
            ).items():
                feedback[kind][0].extend(xs)
                feedback[kind][1].extend(ys)
        return snapshots, feedback

    async def run_once(self) -> list[train.KindResult]:
        now = datetime.now(UTC)
        snapshots, feedback = await self.runtime.database.in_transaction(
            lambda s: self._gather(s, now)
        )
        if not snapshots:
            return []
        first = train.first_fact(snapshots, default=now)
        results = await asyncio.to_thread(
            train.train,
            snapshots,
            start=first,
            end=now,
            horizon=self.settings.horizon,
            store=self.store,
            current=self.scheduler.models,
            feedback=feedback,
        )
        if any(r.promoted for r in results):
            self.scheduler.use_models(artefacts.load_current(self.store))
        for result in results:
            logger.info("training %s: %s %s", result.kind.value, result.reason, result.metrics)
        return results

    async def due(self) -> bool:
        if time.monotonic() - self._last_run >= self.settings.retrain_hours * 3600:
            return True
        labels = await self.runtime.database.in_transaction(store.feedback_count)
        return labels - self._labels_at_last_run >= self.settings.retrain_after_labels

    async def run_forever(self) -> None:
        self._last_run = time.monotonic()  # the first run waits for a full period
        while True:
            await asyncio.sleep(60)
            try:
                if await self.due():
                    self._labels_at_last_run = await self.runtime.database.in_transaction(
                        store.feedback_count
                    )
                    self._last_run = time.monotonic()
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("retraining failed; trying again next period")
