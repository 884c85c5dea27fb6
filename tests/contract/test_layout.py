"""The layout's one rule on imports: each service stands alone, on ``shared`` only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "recommender", "notifier")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = tuple(f"services.{o}" for o in SERVICES if o != service)
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "services" / service).rglob("*.py")
        for name in imported(path)
        if name.startswith(others) or name.startswith("services.offline")
    }
    assert not wrong, sorted(wrong)


def test_shared_imports_no_service() -> None:
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "shared").rglob("*.py")
        for name in imported(path)
        if name == "services" or name.startswith("services.")
    }
    assert not wrong, sorted(wrong)
