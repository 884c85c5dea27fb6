from __future__ import annotations

from services import asyncapi
from shared import topics


def test_committed_asyncapi_documents_match_the_code() -> None:
    assert asyncapi.main(["--check"]) == 0, "run `make asyncapi` and commit infra/asyncapi/"


def test_each_document_names_the_topics_its_service_consumes_and_publishes() -> None:
    docs = asyncapi.documents()
    addresses = {
        name: {c["address"] for c in doc["channels"].values()} for name, doc in docs.items()
    }
    assert set(topics.INPUTS) | {topics.NETWORK_UPDATES} <= addresses["ingest"]
    assert {topics.NETWORK_UPDATES, topics.FEEDBACK, topics.RECOMMENDATIONS} <= addresses[
        "recommender"
    ]
    assert {topics.RECOMMENDATIONS, topics.SUGGESTIONS} <= addresses["notifier"]
