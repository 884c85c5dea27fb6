"""Shared fixtures: the real Tansu broker and a real PostgreSQL schema per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shared.embedded_broker import EmbeddedBroker
from shared.settings import DatabaseSettings

BACKING_SERVICES = frozenset({"kafka_bootstrap", "postgres"})
"""The fixtures that start or need a real broker or database."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``integration``: what ``make test-fast`` leaves out, found rather than remembered."""
    for item in items:
        folders = Path(str(item.path)).parts
        needs = BACKING_SERVICES & set(getattr(item, "fixturenames", ()))
        if needs or "integration" in folders or "e2e" in folders:
            item.add_marker(pytest.mark.integration)


POSTGRES_URL = os.environ.get(
    "SPRINGBOARD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka-protocol broker (Tansu) on a free loopback port, for the whole session."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_file=log) as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="session")
def postgres() -> Iterator[DatabaseSettings]:
    """A fresh schema in the real PostgreSQL database ``test``, dropped afterwards.

    Where PostgreSQL is absent the tests fall back to SQLite, except in CI, where its
    absence is a failure.
    """
    if not _postgres_reachable(POSTGRES_URL):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        yield DatabaseSettings()
        return
    schema = f"sb_test_{uuid.uuid4().hex[:10]}"
    yield DatabaseSettings(url=POSTGRES_URL, schema_name=schema)
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def embedded_system(
    kafka_bootstrap: str,
    postgres: DatabaseSettings,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    **options: Any,
) -> AsyncIterator[Any]:
    """The three services on the session's broker and PostgreSQL schema, with topics of
    their own (prefixed ``name``) and a data directory of their own."""
    from services.embedded import EmbeddedSystem

    async with EmbeddedSystem(
        data_dir=tmp_path_factory.mktemp(name),
        database=postgres,
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=unique(f"{name}-"),
        **options,
    ) as running:
        yield running
