"""The command line every benchmark shares: ``--json`` and ``--quick``, a table or one object."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any


def main(
    doc: str | None, measure: Callable[[bool], dict[str, Any] | Awaitable[dict[str, Any]]]
) -> None:
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    results = measure(args.quick)
    if not isinstance(results, dict):
        import asyncio

        results = asyncio.run(results)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:<28} {value}")
