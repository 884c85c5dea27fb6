from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifier.settings import NotifierSettings
from shared.broker import security_for
from shared.settings import KafkaSettings, SpringboardSettings


def test_settings_come_from_prefixed_nested_environment_variables(monkeypatch) -> None:
    monkeypatch.setenv("SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("SPRINGBOARD_DATABASE__URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("SPRINGBOARD_WEEKLY_BUDGET", "3")
    settings = NotifierSettings()
    assert settings.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.database_url("notifier") == "postgresql+psycopg://u@h/db"
    assert settings.weekly_budget == 3


def test_without_a_database_url_each_service_gets_its_own_sqlite_file(tmp_path) -> None:
    settings = SpringboardSettings(data_dir=tmp_path)
    assert settings.database_url("ingest") == f"sqlite:///{tmp_path / 'ingest.db'}"


def test_sasl_without_credentials_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="SASL needs"):
        KafkaSettings(security_protocol="SASL_SSL")


def test_sasl_scram_settings_build_the_matching_security_object() -> None:
    kafka = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="svc",
        sasl_password="s3cret",
    )
    security = security_for(kafka)
    assert type(security).__name__ == "SASLScram512"
    assert "s3cret" not in repr(kafka)
    assert security_for(KafkaSettings()) is None


def test_every_topic_forgets_its_records_after_the_retention() -> None:
    from shared import topics
    from shared.broker import topic_config
    from shared.settings import KafkaSettings

    kafka = KafkaSettings(retention_days=7, dead_letter_retention_days=14)
    for name in topics.all_topics():
        config = topic_config(kafka, name)
        days = 14 if topics.is_dead_letter(name) else 7
        assert config["retention.ms"] == str(days * 86_400_000), name
        assert config["cleanup.policy"] == "delete"  # never compacted: records expire
