from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

from shared.settings import SpringboardSettings

MIN_SECRET_LENGTH = 32
"""Webhook secrets are at least this long (32 random characters: beyond guessing)."""


def _long_enough(secret: SecretStr | None) -> SecretStr | None:
    if secret is None or not secret.get_secret_value():
        return None  # unset, or set empty (compose's ``${VAR:-}``): webhooks off
    if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
        raise ValueError(f"a webhook secret needs at least {MIN_SECRET_LENGTH} characters")
    return secret


class WebhookKeySettings(BaseModel):
    """One CRM's credential: its secret and the owners it may write for (``*``: any)."""

    secret: SecretStr
    owners: list[str] = Field(default_factory=lambda: ["*"])

    _check_secret = field_validator("secret")(_long_enough)


class IngestSettings(SpringboardSettings):
    http_port: int = Field(
        8001, ge=0, le=65535, description="Port of health, readiness and metrics."
    )
    webhook_secret: SecretStr | None = Field(
        None,
        description="Secret of the webhook key 'default' (at least 32 characters); unset "
        "and no webhook_keys: /webhooks/crm is off.",
    )
    webhook_owners: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Owners the 'default' key may write for; '*' any, but erasures and merge "
        "undos only for owners named here.",
    )
    webhook_keys: dict[str, WebhookKeySettings] = Field(
        default_factory=dict,
        description="More keys, one per sender, selected by X-Springboard-Key: JSON such as "
        '{"hubspot": {"secret": "…", "owners": ["maria.lindqvist"]}}.',
    )
    webhook_max_bytes: int = Field(1_000_000, gt=0, description="Largest webhook body accepted.")
    webhook_tolerance_seconds: int = Field(
        300, gt=0, description="Replay window: how far a signed timestamp may be from now."
    )

    _check_secret = field_validator("webhook_secret")(_long_enough)
