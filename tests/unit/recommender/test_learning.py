"""Backtests without leakage, estimator checks, artefacts without pickle, promotion."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from services.ingest.store import IngestWork
from services.recommender import artefacts, backtest, rankers, train
from services.recommender.rankers import (
    PRIOR_VERSION,
    LearnedRanker,
    PriorRanker,
    WeightedPrior,
    build_pipeline,
)
from services.recommender.scoring import recommend
from shared.messages.recommendations import SuggestionKind
from tests.unit.recommender.test_scoring import NOW, SNAPSHOT

HORIZON = timedelta(days=30)


class Flat:
    """A serving model that ranks nothing (every score equal): any learned model beats it,
    so promotion and serving can be tested whatever the prior achieves."""

    version = "flat"

    def score(self, matrix: np.ndarray) -> np.ndarray:
        return np.zeros(len(matrix))


@parametrize_with_checks([WeightedPrior()])
def test_the_prior_follows_scikit_learns_estimator_rules(estimator, check) -> None:
    check(estimator)


def test_a_backtest_snapshot_knows_nothing_after_its_cutoff() -> None:
    moment = NOW - timedelta(days=200)
    past = backtest.as_of(SNAPSHOT, moment)
    assert all(i.at <= moment for i in past.interactions)
    assert all(f.at <= moment for f in past.favours)
    own = SNAPSHOT.self_ids
    for event_id, people in past.attendance.items():
        if SNAPSHOT.events[event_id].starts_at > moment:
            assert not own & set(people)
            assert set(people.values()) <= {"registered"}
    # and its features are the same as those of a snapshot that never saw the future
    later_free = backtest.as_of(backtest.as_of(SNAPSHOT, moment + timedelta(days=60)), moment)
    from services.recommender.candidates import all_candidates

    a = {c.subject_id: rankers.vector(c) for c in all_candidates(past)[SuggestionKind.RECONNECT]}
    b = {
        c.subject_id: rankers.vector(c)
        for c in all_candidates(later_free)[SuggestionKind.RECONNECT]
    }
    assert a == b


def test_labels_are_what_happened_in_the_horizon() -> None:
    moment = NOW - timedelta(days=200)
    happened = backtest.outcomes(SNAPSHOT, moment, moment + HORIZON)
    met = {
        p for i in SNAPSHOT.interactions if moment < i.at <= moment + HORIZON for p in i.person_ids
    } - SNAPSHOT.self_ids
    assert happened[SuggestionKind.RECONNECT] | happened[SuggestionKind.INTRODUCTION] == met


def test_someone_first_met_after_the_cutoff_was_no_contact_before_it() -> None:
    first_met: dict[str, datetime] = {}
    for interaction in sorted(SNAPSHOT.interactions, key=lambda i: i.at):
        for pid in interaction.person_ids - SNAPSHOT.self_ids:
            first_met.setdefault(pid, interaction.at)
    moment = sorted(first_met.values())[len(first_met) // 2]  # half of them met later
    later = {pid for pid, at in first_met.items() if at > moment}
    past = backtest.as_of(SNAPSHOT, moment)
    assert later
    assert not any(past.people[pid].is_contact for pid in later)
    assert all(past.people[pid].is_contact for pid in first_met.keys() - later)
    # so that meeting one of them in the horizon is an introduction, not a reconnect
    horizon = max(first_met.values()) - moment
    happened = backtest.outcomes(SNAPSHOT, moment, moment + horizon)
    assert later <= happened[SuggestionKind.INTRODUCTION]
    assert not later & happened[SuggestionKind.RECONNECT]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    store = tmp_path_factory.mktemp("models")
    results = train.train(
        [SNAPSHOT],
        start=NOW - timedelta(days=3 * 365 - 90),
        end=NOW,
        horizon=HORIZON,
        store=store,
        current={SuggestionKind.RECONNECT: Flat()},
    )
    return store, {r.kind: r for r in results}


def test_a_model_is_promoted_only_when_it_beats_the_serving_one(trained, tmp_path) -> None:
    store, results = trained
    reconnect = results[SuggestionKind.RECONNECT]
    assert reconnect.promoted
    assert reconnect.metrics["ndcg@10_candidate"] > reconnect.metrics["ndcg@10_serving"]
    assert reconnect.metrics["recipe"] in ("logistic", "boosted")
    assert results[SuggestionKind.GIVE_BACK].reason.startswith("too few positives")
    # People first met after a cut-off are introductions there: they have labels to learn.
    assert results[SuggestionKind.INTRODUCTION].metrics.get("train_rows", 0) > 0
    assert (store / "reconnect" / "CURRENT").read_text() == reconnect.version
    # Against the prior, the decision follows the held-out comparison either way.
    [against_prior] = [
        r
        for r in train.train(
            [SNAPSHOT],
            start=NOW - timedelta(days=3 * 365 - 90),
            end=NOW,
            horizon=HORIZON,
            store=tmp_path,
        )
        if r.kind is SuggestionKind.RECONNECT
    ]
    metrics = against_prior.metrics
    assert metrics["serving"] == PRIOR_VERSION
    assert against_prior.promoted == (metrics["ndcg@10_candidate"] > metrics["ndcg@10_serving"])
    assert (tmp_path / "reconnect" / "CURRENT").exists() == against_prior.promoted


def test_artefacts_round_trip_with_metadata_and_serve_with_their_version(trained) -> None:
    store, results = trained
    models = artefacts.load_current(store)
    metadata = json.loads(
        (
            store / "reconnect" / results[SuggestionKind.RECONNECT].version / "metadata.json"
        ).read_text()
    )
    assert metadata["feature_names"] == list(rankers.feature_names(SuggestionKind.RECONNECT))
    assert metadata["rows"] > 0
    assert metadata["data_hash"]
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2, models=models)
    assert results[SuggestionKind.RECONNECT].version in made.model_version
    assert PRIOR_VERSION in made.model_version


def test_an_artefact_from_another_scikit_learn_version_is_refused(trained, tmp_path) -> None:
    store, results = trained
    folder = store / "reconnect" / results[SuggestionKind.RECONNECT].version
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "model.skops").write_bytes((folder / "model.skops").read_bytes())
    metadata = json.loads((folder / "metadata.json").read_text()) | {"sklearn": "0.0.1"}
    (copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(artefacts.UntrustedArtefact, match="scikit-learn"):
        artefacts.load(copy)


def test_an_artefact_trained_on_other_features_is_refused_and_the_prior_serves_its_kind(
    trained, tmp_path, caplog
) -> None:
    import shutil

    store, results = trained
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    folder = copy / "reconnect" / results[SuggestionKind.RECONNECT].version
    metadata = json.loads((folder / "metadata.json").read_text())
    names = metadata["feature_names"]
    (folder / "metadata.json").write_text(json.dumps(metadata | {"feature_names": names[:-1]}))
    with pytest.raises(artefacts.UntrustedArtefact, match="features"):
        artefacts.load(folder)
    with caplog.at_level("ERROR", logger="springboard.recommender"):
        models = artefacts.load_current(copy)
    assert SuggestionKind.RECONNECT not in models
    assert "the prior serves" in caplog.text
    made = recommend(SNAPSHOT, per_kind=10, max_per_company=2, models=models)
    assert results[SuggestionKind.RECONNECT].version not in made.model_version


def test_an_artefact_holding_untrusted_types_is_refused(tmp_path) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    folder = tmp_path / "evil"
    folder.mkdir()
    sio.dump(FunctionTransformer(func=os.getcwd), folder / "model.skops")
    (folder / "metadata.json").write_text(
        json.dumps({"sklearn": __import__("sklearn").__version__, "version": "evil"})
    )
    with pytest.raises(artefacts.UntrustedArtefact, match="not trusted"):
        artefacts.load(folder)


def test_rankers_score_the_same_matrix_layout() -> None:
    from services.recommender.candidates import all_candidates

    found = all_candidates(SNAPSHOT)[SuggestionKind.RECONNECT]
    matrix = rankers.matrix(found)
    assert matrix.shape[1] == len(rankers.feature_names(SuggestionKind.RECONNECT))
    prior_scores = PriorRanker(SuggestionKind.RECONNECT).score(matrix)
    y = (prior_scores > np.median(prior_scores)).astype(int)
    model = LearnedRanker(build_pipeline(SuggestionKind.RECONNECT).fit(matrix, y), "t")
    assert model.score(matrix).shape == (len(found),)


def test_the_recommender_serves_promoted_models_and_reports_them_as_metrics(
    trained, tmp_path
) -> None:
    from services.recommender.main import create_app
    from services.recommender.settings import RecommenderSettings

    store, results = trained
    app = create_app(RecommenderSettings(data_dir=tmp_path, model_dir=store))
    registry = app.springboard_runtime.registry
    version = results[SuggestionKind.RECONNECT].version
    assert (
        registry.get_sample_value(
            "springboard_recommender_model_info", {"kind": "reconnect", "version": version}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "springboard_recommender_model_info", {"kind": "give_back", "version": PRIOR_VERSION}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "springboard_recommender_model_trained_timestamp_seconds", {"kind": "reconnect"}
        )
        > 0
    )
    assert registry.get_sample_value(
        "springboard_recommender_ndcg_at_10", {"kind": "reconnect", "model": "serving"}
    ) == pytest.approx(results[SuggestionKind.RECONNECT].metrics["ndcg@10_candidate"])


def test_answers_to_suggestions_become_training_rows() -> None:
    from services.recommender.candidates import all_candidates

    issued_at = NOW - timedelta(days=100)
    found = all_candidates(backtest.as_of(SNAPSHOT, issued_at))[SuggestionKind.RECONNECT]
    judged = [
        ("reconnect", found[0].subject_id, issued_at, "accepted"),
        ("reconnect", found[1].subject_id, issued_at, "dismissed"),
        ("reconnect", found[2].subject_id, issued_at, "snoozed"),
    ]
    rows = backtest.feedback_rows(SNAPSHOT, judged)[SuggestionKind.RECONNECT]
    assert rows[1] == [1, 0]
    assert rows[0][0] == rankers.vector(found[0])


async def test_the_recommender_retrains_in_service_and_serves_what_it_promoted(tmp_path) -> None:
    from services.ingest.models import TABLES as INGEST_TABLES
    from services.offline.replay import project
    from services.recommender.models import TABLES
    from services.recommender.retraining import Retrainer
    from services.recommender.scheduler import Scheduler
    from services.recommender.settings import RecommenderSettings
    from shared import database
    from shared.sample_network import generate
    from shared.service import ServiceRuntime
    from shared.unit_of_work import UnitOfWork

    settings = RecommenderSettings(data_dir=tmp_path)
    runtime = ServiceRuntime("recommender", settings, TABLES, UnitOfWork)
    engine = runtime.database.open()
    database.create_tables(engine, INGEST_TABLES)
    with database.transaction(engine, IngestWork) as session:
        for _topic, envelope in generate(now=datetime.now(UTC)).messages:
            project(session, owner_id=envelope.owner_id, source=envelope.source, data=envelope.data)
    scheduler = Scheduler(runtime, settings)
    assert scheduler.models == {}
    scheduler.use_models({SuggestionKind.RECONNECT: Flat()})  # a model any training beats
    results = await Retrainer(runtime, settings, scheduler).run_once()
    promoted = {r.kind: r.version for r in results if r.promoted}
    assert SuggestionKind.RECONNECT in promoted
    for kind, version in promoted.items():
        assert scheduler.models[kind].version == version
    assert (tmp_path / "models" / "reconnect" / "CURRENT").exists()
    # A restart (a new process on the same data directory, as compose's volume keeps it)
    # serves what was promoted.
    restarted = Scheduler(ServiceRuntime("recommender", settings, TABLES, UnitOfWork), settings)
    assert {k: m.version for k, m in restarted.models.items()} == promoted
    engine.dispose()


def test_a_lead_that_may_be_under_one_percent_of_the_serving_score_changes_nothing() -> None:
    # The primary school's introduction candidates: ahead from +0.0015 on a serving 0.50.
    assert not train.clearly_ahead(0.0015, 0.5022)
    assert not train.clearly_ahead(0.005, 0.5)
    assert train.clearly_ahead(0.0051, 0.5)
    assert not train.clearly_ahead(-0.01, 0.5)
    assert train.clearly_ahead(0.001, 0.0)  # nothing served scores: any clear lead counts
