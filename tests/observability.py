"""Helpers for the observability tests: promtool, and the metrics the code exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

METRIC = re.compile(r"\bspringboard_[a-z0-9_]+")
NAME_PATTERN = re.compile(r'__name__=~"([^"]+)"')


def tool(name: str) -> str:
    """A Prometheus binary; CI installs them (Debian package ``prometheus``)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            raise RuntimeError(f"{name} is missing: .ci/run installs the prometheus package")
        pytest.skip(f"{name} not installed (apt-get install prometheus)")
    return path


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def exported_metrics() -> set[str]:
    """Every metric name the three services register (with histogram and counter series)."""
    from services.ingest.main import create_app as ingest
    from services.notifier.main import create_app as notifier
    from services.recommender.main import create_app as recommender

    names: set[str] = set()
    for factory in (ingest, recommender, notifier):
        registry = factory().springboard_runtime.registry
        for family in registry.collect():
            names.add(family.name)
            if family.type == "counter":
                names.add(family.name + "_total")
            if family.type == "histogram":
                names |= {family.name + s for s in ("_bucket", "_sum", "_count")}
    return names


def queried_metrics(expr: str, exported: set[str]) -> tuple[set[str], set[str]]:
    """(names used in ``expr``, those that match nothing exported)."""
    used = set(METRIC.findall(expr))
    missing = {name for name in used if name not in exported}
    for pattern in NAME_PATTERN.findall(expr):
        matched = {n for n in exported if re.fullmatch(pattern, n)}
        if not matched:
            missing.add(pattern)
        used |= matched
    return used, missing
