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
    check = "--check" in argv
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        path = OUT / f"{name}.json"
        text = render(document)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run make asyncapi): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
