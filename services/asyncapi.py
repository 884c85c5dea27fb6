"""Write each service's AsyncAPI document, generated from the code, to ``infra/asyncapi/``.

``python -m services.asyncapi`` (or ``make asyncapi``); ``--check`` exits non-zero when a
committed document differs from what the code generates.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.generated import write_or_check
from services.ingest.main import create_app as create_ingest
from services.notifier.main import create_app as create_notifier
from services.recommender.main import create_app as create_recommender
from shared import contract

OUT = Path(__file__).resolve().parent.parent / "infra" / "asyncapi"
FACTORIES: dict[str, Callable[[], Any]] = {
    "ingest": create_ingest,
    "recommender": create_recommender,
    "notifier": create_notifier,
}


def documents() -> dict[str, dict[str, Any]]:
    out = {}
    for name, factory in FACTORIES.items():
        app = factory()
        out[name] = contract.with_payloads(
            json.loads(app.schema.to_specification().to_json()), name
        )
    return out


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    files = {OUT / f"{name}.json": render(document) for name, document in documents().items()}
    return write_or_check(files, argv, "make asyncapi")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
