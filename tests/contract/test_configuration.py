"""The configuration table is the settings classes', and every setting says what it does."""

from __future__ import annotations

from services import configuration
from shared.settings import SpringboardSettings


def test_the_committed_table_matches_the_settings_classes() -> None:
    assert configuration.main(["--check"]) == 0, "run python -m services.configuration"


def test_every_setting_has_a_description() -> None:
    classes = [SpringboardSettings, *configuration.SERVICES.values()]
    missing = {
        v for cls in classes for v, field in configuration.rows(cls) if not field.description
    }
    assert not missing, sorted(missing)


def test_a_services_own_default_gets_its_own_row() -> None:
    table = configuration.table()
    assert "| `SPRINGBOARD_HTTP_PORT` | all | `8000` |" in table
    assert "| `SPRINGBOARD_HTTP_PORT` | ingest | `8001` |" in table
    assert "| `SPRINGBOARD_WEEKLY_BUDGET` | notifier | `5` |" in table
