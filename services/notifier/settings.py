from __future__ import annotations

from pydantic import Field

from shared.settings import SpringboardSettings


class NotifierSettings(SpringboardSettings):
    http_port: int = 8003
    weekly_budget: int = Field(5, ge=0, description="Suggestions per owner per rolling week.")
    cooldown_days: float = Field(
        30.0, ge=0, description="Days before the same person or event may be suggested again."
    )
