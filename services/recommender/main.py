"""The recommender service: projects the network, scores candidates, publishes ranked lists.

Read down: ``handlers`` (the Kafka handler, projecting through ``store``); ``scheduler``
scores owners whose network changed, with ``scoring`` (candidates, features, the
``rankers``, what is worth saying and the re-ranking); ``retraining`` learns a model from
outcomes and promotes it only when it wins; ``store`` and ``snapshot`` are persistence and
the view an owner is scored on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaRouter

from services.recommender.handlers import Recommender, on_updates, updates_counter
from services.recommender.models import TABLES
from services.recommender.retraining import Retrainer
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared.contract import subscribed
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork


def create_app(settings: RecommenderSettings | None = None) -> AsgiFastStream:
    settings = settings or RecommenderSettings()
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    scheduler = Scheduler(runtime, settings)
    runtime.broker.include_router(router(runtime, on_applied=scheduler.wake))
    retrainer = Retrainer(runtime, settings, scheduler)

    async def start_scheduler() -> None:
        runtime.spawn(scheduler.run_forever())
        runtime.spawn(retrainer.run_forever())

    return runtime.asgi_app(after_startup=[start_scheduler])


def router(
    runtime: ServiceRuntime[UnitOfWork], on_applied: Callable[[list[str]], None]
) -> KafkaRouter:
    recommender = Recommender(runtime, updates_counter(runtime.registry), on_applied)
    return subscribed(runtime, "recommender-updates", partial(on_updates, recommender))
