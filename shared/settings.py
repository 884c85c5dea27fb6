"""Settings for every service, read from the environment (prefix ``SPRINGBOARD_``).

Only this module reads the environment; tests and the embedded runner build settings
objects directly. Nested models use ``__`` in variable names, for example
``SPRINGBOARD_KAFKA__BOOTSTRAP_SERVERS`` or ``SPRINGBOARD_DATABASE__URL``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class KafkaSettings(BaseModel):
    bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated host:port list.")
    security_protocol: SecurityProtocol = Field(
        SecurityProtocol.PLAINTEXT, description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    sasl_mechanism: SaslMechanism | None = Field(
        None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password.")
    ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers.")
    ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(None, description="Client certificate's key.")
    topic_prefix: str = Field(
        "", description="Prepended to every topic and consumer group; isolates test runs."
    )
    partitions: int = Field(4, ge=1, description="Partitions for topics this system creates.")
    retention_days: float = Field(
        7.0,
        gt=0,
        description="How long topics this system creates keep records (they name people; "
        "erasure reaches the topics when it passes).",
    )
    dead_letter_retention_days: float = Field(
        14.0, gt=0, description="How long dead-letter topics keep the records they hold."
    )
    batch_max_records: int = Field(1000, ge=1, description="Largest batch a consumer handles.")
    fetch_max_wait_ms: int = Field(
        50,
        ge=1,
        description="Longest a fetch waits for data. A broker that answers a waiting fetch "
        "only some time after data arrives (Tansu: up to about half of this) adds that "
        "much latency per hop.",
    )
    producer_batch_bytes: int = Field(
        512 * 1024,
        ge=1024,
        description="Largest batch a producer buffers per partition. Large batches mean few "
        "produce requests, each of which costs the broker and the client: against aiokafka's "
        "16 KiB, a third more inputs per second through the pipeline.",
    )
    partition_fetch_bytes: int = Field(
        256 * 1024,
        ge=1024,
        description="Most a fetch takes from one partition (a larger first record still "
        "comes whole). A consumer works through what it fetched partition by partition: with "
        "Kafka's 1 MiB, owners of the other partitions could go quiet for longer than the "
        "debounce under load and be scored before the rest of their updates came in.",
    )
    batch_timeout_ms: int = Field(
        10,
        ge=1,
        description="Longest a consumer's poll waits when nothing has been fetched; it "
        "returns as soon as records arrive, and polls again at once after an empty poll. "
        "An idle consumer wakes up this often (100 ms halved an idle service's CPU but "
        "measured a higher p99 latency).",
    )

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        sasl = self.security_protocol in (
            SecurityProtocol.SASL_PLAINTEXT,
            SecurityProtocol.SASL_SSL,
        )
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(
                "SASL needs kafka.sasl_mechanism, kafka.sasl_username and kafka.sasl_password"
            )
        return self


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. "
        "Unset: a SQLite file per service in the data directory.",
    )
    schema_name: str | None = Field(
        None, description="PostgreSQL schema to use (search_path); isolates test runs."
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging).")


class SpringboardSettings(BaseSettings):
    """Settings common to every service."""

    model_config = SettingsConfigDict(
        env_prefix="SPRINGBOARD_", env_nested_delimiter="__", extra="ignore"
    )

    kafka: KafkaSettings = KafkaSettings()
    database: DatabaseSettings = DatabaseSettings()
    data_dir: Path = Field(Path(".springboard"), description="Where SQLite files and models live.")
    secrets_key: SecretStr | None = Field(
        None,
        description="Fernet key that seals secrets sent on Kafka (webhook secrets); unset "
        "or empty: a key file made in the data directory.",
    )

    link_secret: SecretStr | None = Field(
        None,
        description="Signs sign-in and feedback links, the owner's page sessions and the "
        "services' calls to each other; unset or empty: a key file made in the data "
        "directory (digests then carry no feedback links). Changing it ends every session.",
    )

    upload_max_bytes: int = Field(
        20_000_000, gt=0, description="Largest file the owner's page takes to import."
    )

    @field_validator("secrets_key", "link_secret")
    @classmethod
    def _empty_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    http_host: str = Field(
        "127.0.0.1", description="Address of health, readiness, metrics and webhooks."
    )
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the same.")
    http_head_timeout_seconds: float = Field(
        10.0, gt=0, description="A request's head must arrive within this (slow clients)."
    )
    http_body_timeout_seconds: float = Field(
        30.0, gt=0, description="A request's body must arrive within this after its head."
    )
    http_max_connections: int = Field(
        200, ge=1, description="Concurrent connections a service takes; beyond: 503."
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field("text", description="json: one object a line.")

    def database_url(self, service: str) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / f'{service}.db'}"
