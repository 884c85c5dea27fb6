"""Prometheus configuration, alert rules and Grafana dashboards, checked as the tools check them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import yaml

from tests.observability import exported_metrics, promtool, queried_metrics

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "infra" / "prometheus"
GRAFANA = ROOT / "infra" / "grafana"
EXPORTED = exported_metrics()


def test_the_scrape_configuration_is_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(PROMETHEUS / "alerts_test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_alerts_cover_what_an_on_call_engineer_needs() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "SpringboardServiceDown",
        "SpringboardConsumerLagGrowing",
        "SpringboardDeadLetters",
        "SpringboardDeliveryFailures",
        "SpringboardNoSuggestions",
        "SpringboardStaleModel",
        "SpringboardModelBelowBaseline",
    }


def test_every_alert_expression_names_metrics_the_code_exports() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    for rule in rules:
        _, missing = queried_metrics(rule["expr"], EXPORTED)
        assert not missing, f"{rule['alert']} queries unknown metrics {missing}"


def test_the_committed_dashboards_are_generated_from_their_description() -> None:
    import runpy

    module = runpy.run_path(str(GRAFANA / "generate.py"))
    assert module["main"](["--check"]) == 0, "run python infra/grafana/generate.py"


def dashboards() -> list[tuple[str, dict]]:
    return [
        (p.name, json.loads(p.read_text())) for p in sorted((GRAFANA / "dashboards").glob("*.json"))
    ]


def test_dashboards_are_valid_against_grafanas_dashboard_schema() -> None:
    schema = json.loads((GRAFANA / "dashboard.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    assert len(dashboards()) == 4
    for name, document in dashboards():
        errors = [e.message for e in validator.iter_errors(document)]
        assert not errors, f"{name}: {errors[:3]}"
    broken = copy.deepcopy(dashboards()[0][1])
    broken["panels"][0]["gridPos"] = {"h": "tall"}
    assert list(validator.iter_errors(broken)), "the schema must catch a malformed panel"


def test_every_panel_queries_metrics_the_code_exports() -> None:
    for name, document in dashboards():
        for panel in document["panels"]:
            for target in panel["targets"]:
                used, missing = queried_metrics(target["expr"], EXPORTED)
                assert used, f"{name} / {panel['title']}: no query"
                assert not missing, f"{name} / {panel['title']}: {missing}"


def test_provisioning_points_grafana_at_prometheus_and_the_dashboards() -> None:
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["uid"] == "prometheus"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/springboard.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
