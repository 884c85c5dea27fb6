"""Where the real producers' files are: ``shared/real_contacts_calendars`` beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[2] / "shared" / "real_contacts_calendars"


def real_files(folder: str, suffix: str) -> list[Path]:
    files = sorted((REAL / folder).glob(f"*{suffix}"))
    if not files:
        if os.environ.get("CI"):
            raise RuntimeError(f"real producer files missing under {REAL}")
        pytest.skip(f"no real files under {REAL / folder}", allow_module_level=True)
    return files
