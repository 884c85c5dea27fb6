from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import SpringboardSettings


class IngestSettings(SpringboardSettings):
    http_port: int = 8001
    webhook_secret: SecretStr | None = Field(
        None, description="Shared secret of CRM webhooks; unset disables /webhooks/crm."
    )
    webhook_max_bytes: int = Field(1_000_000, gt=0, description="Largest webhook body accepted.")
    webhook_tolerance_seconds: int = Field(
        300, gt=0, description="Replay window: how far a signed timestamp may be from now."
    )
