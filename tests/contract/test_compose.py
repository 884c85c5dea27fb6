"""No Docker engine runs here, so the compose file is checked as data."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_runs_a_real_app_factory_from_one_image() -> None:
    from services.cli import ServiceName

    services = compose()["services"]
    for name in ("ingest", "recommender", "notifier"):
        service = services[name]
        assert service["image"] == "springboard:latest"
        assert service["command"] == ["springboard", "run", name]
        assert ServiceName(name)
        factory = importlib.import_module(f"services.{name}.main").create_app
        assert callable(factory)
        assert factory().springboard_runtime.name == name
        assert set(service["depends_on"]) == {"kafka", "postgres"}


def test_kafka_runs_in_kraft_mode_and_postgres_is_health_checked() -> None:
    services = compose()["services"]
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"]
    assert "healthcheck" in services["postgres"]


def test_secrets_come_from_the_environment_and_must_be_set() -> None:
    import re

    text = (ROOT / "docker-compose.yml").read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|SECRET)\w*:\s", line) and "${" not in line:
            raise AssertionError(f"a secret written into the compose file: {line.strip()}")
    assert "${POSTGRES_PASSWORD:?" in text
    assert "${GRAFANA_ADMIN_PASSWORD:?" in text


def test_mounted_files_exist_and_prometheus_and_grafana_are_provisioned() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source = volume.split(":", 1)[0]
            assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        assert "healthcheck" in services[name]


def test_the_image_is_built_from_a_dockerfile_in_the_repository() -> None:
    assert (ROOT / "Dockerfile").exists()
