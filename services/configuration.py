"""Write the settings table of ``docs/configuration.md`` from the settings classes.

``python -m services.configuration`` rewrites the table between its markers;
``--check`` exits 1 when the committed table differs from what the classes say.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from services.generated import write_or_check
from services.ingest.settings import IngestSettings
from services.notifier.settings import NotifierSettings
from services.recommender.settings import RecommenderSettings
from shared.settings import SpringboardSettings

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
START, END = "<!-- settings table: generated -->", "<!-- end of settings table -->"
SERVICES: dict[str, type[SpringboardSettings]] = {
    "ingest": IngestSettings,
    "recommender": RecommenderSettings,
    "notifier": NotifierSettings,
}


def default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None or isinstance(value, SecretStr):
        return "none"
    if value == "":
        return "empty"
    if isinstance(value, BaseModel):
        return "(below)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def rows(model: type[BaseModel], prefix: str = "SPRINGBOARD_") -> list[tuple[str, FieldInfo]]:
    """(variable, field) for each setting, nested models' fields under ``__``."""
    out: list[tuple[str, FieldInfo]] = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out += rows(kind, f"{variable}__")
        else:
            out.append((variable, field))
    return out


def table() -> str:
    lines = ["| variable | service | default | meaning |", "|---|---|---|---|"]
    common = dict(rows(SpringboardSettings))
    for variable, field in common.items():
        lines.append(_line(variable, "all", field))
    for service, settings in SERVICES.items():
        for variable, field in rows(settings):
            inherited = common.get(variable)
            if inherited is None or default_text(inherited) != default_text(field):
                lines.append(
                    _line(variable, service, field if inherited is None else inherited, field)
                )
    return "\n".join(lines)


def _line(variable: str, service: str, field: FieldInfo, value: FieldInfo | None = None) -> str:
    meaning = " ".join((field.description or "").split()).replace("|", "\\|")
    return f"| `{variable}` | {service} | {default_text(value or field)} | {meaning} |"


def rendered(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    files = {DOC: rendered(DOC.read_text())}
    return write_or_check(files, argv, "python -m services.configuration")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
