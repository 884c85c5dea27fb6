"""Files generated from the code (AsyncAPI documents, Grafana dashboards, the settings
table): written by their command, or checked with ``--check`` (exit 1 if out of date)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def write_or_check(files: Mapping[Path, str], argv: Sequence[str], remedy: str) -> int:
    """Write each file's text; with ``--check`` in ``argv``, write nothing and say which
    differ from it (and ``remedy``, the command that rewrites them)."""
    if "--check" in argv:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date ({remedy}): {', '.join(stale)}", file=sys.stderr)
            return 1
        return 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0
