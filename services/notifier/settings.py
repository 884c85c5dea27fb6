from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import SpringboardSettings


class NotifierSettings(SpringboardSettings):
    http_port: int = Field(
        8003, ge=0, le=65535, description="Port of health, readiness and metrics."
    )
    weekly_budget: int = Field(5, ge=0, description="Suggestions per owner per rolling week.")
    cooldown_days: float = Field(
        30.0, ge=0, description="Days before the same person or event may be suggested again."
    )

    public_url: str = Field(
        "http://127.0.0.1:8003",
        description="The notifier as the owner's browser reaches it: sign-in and feedback "
        "links point here.",
    )
    ingest_url: str = Field(
        "http://127.0.0.1:8001", description="Ingest's address, for the page's import box."
    )
    sign_in_minutes: int = Field(
        15, ge=1, le=1440, description="How long a sign-in link to the owner's page works."
    )
    session_hours: int = Field(
        12, ge=1, le=720, description="How long a session on the owner's page lasts."
    )
    smtp_host: str | None = Field(None, description="SMTP server; unset: no e-mail is sent.")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection to TLS.")
    smtp_username: str | None = Field(None, description="SMTP login; unset: none.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_sender: str = Field(
        "Springboard <suggestions@springboard.invalid>", description="From: of digests."
    )
    delivery_max_attempts: int = Field(6, ge=1, description="Tries before a delivery is dead.")
    backoff_base_seconds: float = Field(
        1.0, gt=0, description="First retry of a failed delivery; doubles each time."
    )
    backoff_max_seconds: float = Field(300.0, gt=0, description="Longest wait between tries.")
    breaker_threshold: int = Field(5, ge=1, description="Failures in a row that open a circuit.")
    breaker_cooldown_seconds: float = Field(
        30.0, gt=0, description="An open circuit tries its endpoint again after this."
    )
    dispatch_interval_seconds: float = Field(
        0.5, gt=0, description="How often due deliveries are looked for."
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="A webhook call's time limit.")
    allow_private_webhooks: bool = Field(
        False,
        description="Deliver to webhook URLs on loopback, private, link-local or other "
        "non-public addresses (tests, a private network); off: such URLs are refused (SSRF).",
    )
