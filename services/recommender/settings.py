from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from shared.settings import SpringboardSettings


class RecommenderSettings(SpringboardSettings):
    http_port: int = Field(
        8002, ge=0, le=65535, description="Port of health, readiness and metrics."
    )
    debounce_seconds: float = Field(
        3.0,
        ge=0,
        description="Re-score an owner this long after their last update (the list is "
        "prepared halfway through and published then, if nothing changed).",
    )
    max_wait_seconds: float = Field(
        30.0,
        gt=0,
        description="Score at the latest this long after a change, even while "
        "more updates are still queued.",
    )
    refresh_hours: float = Field(
        24.0,
        gt=0,
        description="Re-score every owner at least this often: time alone makes a contact overdue.",
    )
    scan_interval_seconds: float = Field(
        0.25, gt=0, description="Longest the scheduler waits before looking for due owners."
    )
    per_kind: int = Field(10, ge=1, description="Candidates kept per kind in each ranked list.")
    model_dir: Path | None = Field(
        None, description="Model store (default: <data_dir>/models); promoted models serve."
    )
    retrain_hours: float = Field(24.0, gt=0, description="Retrain this often.")
    retrain_after_labels: int = Field(
        50, ge=1, description="Retrain sooner once this many new answers to suggestions came."
    )
    train_max_owners: int = Field(
        300, ge=1, description="Train on at most this many owners' networks (a daily sample)."
    )
    label_horizon_days: float = Field(
        30.0,
        gt=0,
        description="How far ahead suggestions look: every time scale of the features is a "
        "multiple of it, and backtest labels are what happened this long after a cut-off.",
    )
    max_per_company: int = Field(
        2, ge=1, description="Diversity: at most this many per company and kind."
    )

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.label_horizon_days)
