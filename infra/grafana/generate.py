"""Writes the Grafana dashboards in ``infra/grafana/dashboards/`` from this one description.

``python infra/grafana/generate.py`` (or ``make dashboards``); ``--check`` exits non-zero
when a committed dashboard differs. Every query names metrics the services export; a test
holds them to that and to Grafana's dashboard JSON schema (``dashboard.schema.json``,
generated from the ``@grafana/schema`` npm package with ts-json-schema-generator).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services.generated import write_or_check

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SERVICES = ("ingest", "recommender", "notifier")


def panel(
    pid: int,
    title: str,
    exprs: list[tuple[str, str]],
    *,
    x: int,
    y: int,
    w: int = 12,
    h: int = 8,
    unit: str = "short",
    kind: str = "timeseries",
) -> dict[str, Any]:
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [
            {"refId": chr(65 + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["springboard"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "timezone": "browser",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [],
    }


def pipeline() -> dict[str, Any]:
    return dashboard(
        "springboard-pipeline",
        "Springboard · Pipeline overview",
        [
            panel(
                1,
                "Inputs applied / s by topic",
                [
                    (
                        'sum by (topic) (rate(springboard_ingest_inputs_total{outcome="applied"}[5m]))',
                        "{{topic}}",
                    )
                ],
                x=0,
                y=0,
                unit="ops",
            ),
            panel(
                2,
                "Dead letters / s by service and reason",
                [
                    (
                        'sum by (job, reason) (rate({__name__=~"springboard_.+_dead_letters_total"}[5m]))',
                        "{{job}} {{reason}}",
                    )
                ],
                x=12,
                y=0,
                unit="ops",
            ),
            panel(
                3,
                "Network updates / s",
                [
                    (
                        "sum by (change) (rate(springboard_ingest_network_updates_total[5m]))",
                        "{{change}}",
                    )
                ],
                x=0,
                y=8,
                unit="ops",
            ),
            panel(
                4,
                "Consumer lag by service and topic",
                [
                    (
                        'sum by (job, topic) ({__name__=~"springboard_.+_consumer_lag_messages"})',
                        "{{job}} {{topic}}",
                    )
                ],
                x=12,
                y=8,
            ),
            panel(
                5,
                "Suggestions published / s by kind",
                [("sum by (kind) (rate(springboard_notifier_suggestions_total[5m]))", "{{kind}}")],
                x=0,
                y=16,
                unit="ops",
            ),
            panel(
                6,
                "End-to-end latency: input to suggestion (p50, p99)",
                [
                    (
                        "histogram_quantile(0.5, sum by (le) (rate(springboard_notifier_end_to_end_seconds_bucket[15m])))",
                        "p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (le) (rate(springboard_notifier_end_to_end_seconds_bucket[15m])))",
                        "p99",
                    ),
                ],
                x=12,
                y=16,
                unit="s",
            ),
            panel(
                7,
                "Identity merges / h",
                [
                    (
                        "sum by (how) (increase(springboard_ingest_identity_merges_total[1h]))",
                        "{{how}}",
                    )
                ],
                x=0,
                y=24,
            ),
        ],
    )


def quality() -> dict[str, Any]:
    return dashboard(
        "springboard-quality",
        "Springboard · Recommendation quality",
        [
            panel(
                1,
                "Ranked items / s by kind",
                [
                    (
                        "sum by (kind) (rate(springboard_recommender_recommendations_total[5m]))",
                        "{{kind}}",
                    )
                ],
                x=0,
                y=0,
                unit="ops",
            ),
            panel(
                2,
                "Scoring time per owner (p50, p99)",
                [
                    (
                        "histogram_quantile(0.5, sum by (le) (rate(springboard_recommender_scoring_seconds_bucket[15m])))",
                        "p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (le) (rate(springboard_recommender_scoring_seconds_bucket[15m])))",
                        "p99",
                    ),
                ],
                x=12,
                y=0,
                unit="s",
            ),
            panel(
                3,
                "NDCG@10: serving model and best baseline",
                [("springboard_recommender_ndcg_at_10", "{{kind}} {{model}}")],
                x=0,
                y=8,
            ),
            panel(
                4,
                "Model serving each kind",
                [("springboard_recommender_model_info", "{{kind}} {{version}}")],
                x=12,
                y=8,
                kind="table",
            ),
            panel(
                5,
                "Model age",
                [("time() - springboard_recommender_model_trained_timestamp_seconds", "{{kind}}")],
                x=0,
                y=16,
                unit="s",
            ),
            panel(
                6,
                "Feedback and updates projected / s",
                [("sum by (topic) (rate(springboard_recommender_updates_total[5m]))", "{{topic}}")],
                x=12,
                y=16,
                unit="ops",
            ),
        ],
    )


def delivery() -> dict[str, Any]:
    return dashboard(
        "springboard-delivery",
        "Springboard · Delivery",
        [
            panel(
                1,
                "Deliveries / s by channel and outcome",
                [
                    (
                        "sum by (channel, outcome) (rate(springboard_notifier_deliveries_total[5m]))",
                        "{{channel}} {{outcome}}",
                    )
                ],
                x=0,
                y=0,
                unit="ops",
            ),
            panel(
                2,
                "Dead deliveries in the last 24 h",
                [
                    (
                        'sum by (channel) (increase(springboard_notifier_deliveries_total{outcome="dead"}[24h]))',
                        "{{channel}}",
                    )
                ],
                x=12,
                y=0,
                kind="stat",
            ),
            panel(
                3,
                "Suggestions published / h by kind",
                [
                    (
                        "sum by (kind) (increase(springboard_notifier_suggestions_total[1h]))",
                        "{{kind}}",
                    )
                ],
                x=0,
                y=8,
            ),
            panel(
                4,
                "Share of webhook attempts that failed",
                [
                    (
                        'sum(rate(springboard_notifier_deliveries_total{channel="webhook", outcome=~"retry|dead"}[15m]))'
                        ' / clamp_min(sum(rate(springboard_notifier_deliveries_total{channel="webhook"}[15m])), 1e-9)',
                        "failed",
                    )
                ],
                x=12,
                y=8,
                unit="percentunit",
            ),
        ],
    )


def services() -> dict[str, Any]:
    panels = []
    for row, name in enumerate(SERVICES):
        app = f'app_name="springboard-{name}"'
        y = row * 8
        panels += [
            panel(
                row * 3 + 1,
                f"{name}: messages handled / s",
                [
                    (
                        f"sum by (handler, status) (rate(springboard_received_processed_messages_total{{{app}}}[5m]))",
                        "{{handler}} {{status}}",
                    )
                ],
                x=0,
                y=y,
                w=8,
                unit="ops",
            ),
            panel(
                row * 3 + 2,
                f"{name}: handler errors / s",
                [
                    (
                        f"sum by (handler) (rate(springboard_received_processed_messages_exceptions_total{{{app}}}[5m]))",
                        "{{handler}}",
                    )
                ],
                x=8,
                y=y,
                w=8,
                unit="ops",
            ),
            panel(
                row * 3 + 3,
                f"{name}: handler duration (p99)",
                [
                    (
                        f"histogram_quantile(0.99, sum by (le, handler) (rate(springboard_received_processed_messages_duration_seconds_bucket{{{app}}}[5m])))",
                        "{{handler}}",
                    )
                ],
                x=16,
                y=y,
                w=8,
                unit="s",
            ),
        ]
    return dashboard(
        "springboard-services", "Springboard · Services (rate, errors, duration)", panels
    )


DASHBOARDS = {"pipeline": pipeline, "quality": quality, "delivery": delivery, "services": services}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    files = {
        HERE / "dashboards" / f"{name}.json": render(build()) for name, build in DASHBOARDS.items()
    }
    return write_or_check(files, argv, "python infra/grafana/generate.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
