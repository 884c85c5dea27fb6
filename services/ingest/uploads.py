"""``/imports``: a file the owner uploaded on their page, imported for them.

The notifier serves the page and hands the file over in a call signed with the link
secret (``shared.service_calls``): the owner comes from that signature, never from the
body. The file is parsed like ``springboard import`` parses one (the kind by its name:
``.ics``, ``.vcf``, ``.csv``), its items published to the input topics, and the same
summary the CLI prints comes back as JSON: counts, and each rejected line with its number.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from services.ingest import feeds, importer
from services.ingest.importer import ImportKind, Summary
from services.ingest.parsers.common import Item
from shared.service_calls import verified
from shared.settings import KafkaSettings

KINDS = {
    ".ics": ImportKind.ics,
    ".vcf": ImportKind.vcard,
    ".vcard": ImportKind.vcard,
    ".csv": ImportKind.csv,
}


def kind_of(filename: str) -> ImportKind | None:
    return KINDS.get(PurePath(filename).suffix.casefold())


class UploadEndpoint:
    """A plain ASGI app (POST only), mounted at ``/imports`` on the ingest service."""

    def __init__(self, kafka: KafkaSettings | None, secret: str | None, *, max_bytes: int) -> None:
        """``kafka``: where the items go; None counts them only (``importer.run``)."""
        self.kafka = kafka
        self.secret = secret
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status, body = await self._handle(Request(scope, receive))
        await JSONResponse(body, status)(scope, receive, send)

    async def _handle(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.method != "POST":
            return 405, {"error": "POST only"}
        if not self.secret:
            return 503, {"error": "imports from the page are off (no link secret)"}
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return 413, {"error": f"a file of at most {self.max_bytes:,} bytes"}
        body = await request.body()
        call = verified(self.secret, request.headers, body)
        if call is None:
            return 401, {"error": "not a signed call from the owner's page"}
        owner, fields = call
        filename = fields.get("filename", "")
        kind = kind_of(filename)
        if kind is None:
            return 415, {"error": "upload a .ics, .vcf or .csv file"}
        me = [m for m in fields.get("me", "").split(",") if m]
        try:
            items = await asyncio.to_thread(_parsed, kind, body, me)
        except (feeds.NothingToImport, ValueError) as error:
            return 422, {"error": f"nothing to import from {filename}: {error}"}
        summary = await importer.run(
            items,
            owner_id=owner,
            source=f"page:{kind.value}",
            summary=Summary(source=filename, dry_run=False),
            kafka=self.kafka,
        )
        return 200, summary.as_json()


def _parsed(kind: ImportKind, body: bytes, me: list[str]) -> list[Item]:
    # Parsed in a thread, whole: a large calendar would otherwise hold the event loop.
    return list(importer.parse(kind, feeds.body_lines(body), me=me))
