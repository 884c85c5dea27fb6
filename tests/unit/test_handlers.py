"""Each service's Kafka handler, called as its consumer calls it, without a broker: a store
in SQLite, the publisher recorded. The end-to-end tests run the same handlers on Tansu."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bench.trace_meeting import consume, runtime
from services.ingest import main as ingest_main
from services.ingest.models import TABLES as INGEST_TABLES
from services.ingest.store import IngestWork
from services.notifier import main as notifier_main
from services.notifier.models import TABLES as NOTIFIER_TABLES
from services.notifier.settings import NotifierSettings
from services.recommender import main as recommender_main
from services.recommender.models import TABLES as RECOMMENDER_TABLES
from services.recommender.settings import RecommenderSettings
from shared import topics
from shared.messages import ContactUpserted, ErasePerson, RecommendationsMade, wrap
from shared.messages.network import ErasureConfirmed, PersonChanged, PersonErased
from shared.messages.recommendations import RankedItem, SuggestionKind
from shared.settings import SpringboardSettings
from shared.unit_of_work import UnitOfWork

OWNER = "maria"


def test_ingest_publishes_the_changes_and_tells_the_services_about_an_erasure(
    tmp_path: Path,
) -> None:
    ingest = runtime("ingest", SpringboardSettings(data_dir=tmp_path), INGEST_TABLES, IngestWork)
    ingest_main.router(ingest)
    anna = ContactUpserted(external_id="c1", full_name="Anna Berg", emails=["anna@x.example"])
    erase = wrap(ErasePerson(email="anna@x.example"), owner_id=OWNER, source="cli")
    asyncio.run(
        consume(
            ingest,
            [
                (topics.CONTACTS, wrap(anna, owner_id=OWNER, source="crm")),
                (topics.ERASURE, erase),
            ],
        )
    )
    sent = ingest.publisher
    changes = [c for _, u in sent.on(topics.NETWORK_UPDATES) for c in u.data.changes]
    [person] = [c for c in changes if isinstance(c, PersonChanged)]
    assert person.full_name == "Anna Berg"
    [(_, notice)] = sent.on(topics.ERASURES)
    assert isinstance(notice.data, PersonErased)
    assert notice.data.person_id == person.person_id
    [(_, confirmed)] = sent.on(topics.ERASURE_CONFIRMATIONS)
    assert isinstance(confirmed.data, ErasureConfirmed)
    assert confirmed.data.person_ids == [person.person_id]
    assert confirmed.correlation_id == erase.id


def test_the_recommender_projects_updates_and_wakes_the_scheduler_for_their_owners(
    tmp_path: Path,
) -> None:
    ingest = runtime("ingest", SpringboardSettings(data_dir=tmp_path), INGEST_TABLES, IngestWork)
    ingest_main.router(ingest)
    anna = ContactUpserted(external_id="c1", full_name="Anna Berg", emails=["anna@x.example"])
    asyncio.run(consume(ingest, [(topics.CONTACTS, wrap(anna, owner_id=OWNER, source="crm"))]))
    settings = RecommenderSettings(data_dir=tmp_path)
    recommender = runtime("recommender", settings, RECOMMENDER_TABLES, UnitOfWork)
    woken: list[list[str]] = []
    recommender_main.router(recommender, on_applied=woken.append)
    asyncio.run(consume(recommender, ingest.publisher.on(topics.NETWORK_UPDATES)))
    assert woken == [[OWNER]]

    def people(session: UnitOfWork) -> list[str]:
        from services.recommender import store

        snapshot = store.load_snapshot(session, owner_id=OWNER, now=datetime.now(UTC))
        return sorted(p.full_name for p in snapshot.people.values())

    assert asyncio.run(recommender.database.in_transaction(people)) == ["Anna Berg"]


def ranked(count: int) -> RecommendationsMade:
    now = datetime.now(UTC)
    return RecommendationsMade(
        model_version="prior-test",
        generated_at=now,
        items=[
            RankedItem(
                suggestion_id=f"s-{i}",
                kind=SuggestionKind.RECONNECT,
                subject_id=f"p-{i}",
                subject_name=f"Person {i}",
                score=0.9 - i / 100,
                rank=i + 1,
                reasons=["You have not met in a while."],
            )
            for i in range(count)
        ],
    )


def test_the_notifier_publishes_within_the_weekly_budget_and_never_twice(tmp_path: Path) -> None:
    settings = NotifierSettings(data_dir=tmp_path, weekly_budget=3)
    notifier = runtime("notifier", settings, NOTIFIER_TABLES, UnitOfWork)
    notifier_main.router(notifier, settings)
    made = wrap(ranked(8), owner_id=OWNER, source="springboard.recommender")
    asyncio.run(consume(notifier, [(topics.RECOMMENDATIONS, made)]))
    first = [e.data.suggestion_id for _, e in notifier.publisher.on(topics.SUGGESTIONS)]
    assert first == ["s-0", "s-1", "s-2"]
    asyncio.run(consume(notifier, [(topics.RECOMMENDATIONS, made)]))  # read again
    again = [e.data.suggestion_id for _, e in notifier.publisher.on(topics.SUGGESTIONS)]
    assert again == first
