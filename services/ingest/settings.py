from __future__ import annotations

from shared.settings import SpringboardSettings


class IngestSettings(SpringboardSettings):
    http_port: int = 8001
