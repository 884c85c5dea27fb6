"""The recommender service: projects the network, scores candidates, publishes ranked lists."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream

from services.recommender.handlers import build_router
from services.recommender.models import TABLES
from services.recommender.retraining import Retrainer
from services.recommender.scheduler import Scheduler
from services.recommender.settings import RecommenderSettings
from shared.service import ServiceRuntime
from shared.unit_of_work import UnitOfWork


def create_app(settings: RecommenderSettings | None = None) -> AsgiFastStream:
    settings = settings or RecommenderSettings()
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    scheduler = Scheduler(runtime, settings)
    runtime.broker.include_router(build_router(runtime, on_applied=scheduler.wake))
    retrainer = Retrainer(runtime, settings, scheduler)

    async def start_scheduler() -> None:
        runtime.spawn(scheduler.run_forever())
        runtime.spawn(retrainer.run_forever())

    return runtime.asgi_app(after_startup=[start_scheduler])
