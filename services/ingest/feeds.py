"""Reading an import source: a local file, or a feed URL fetched with ETag / If-Modified-Since.

The validators of each URL are kept in a small JSON file, so polling a feed that has not
changed costs one 304 and imports nothing.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

MAX_FEED_BYTES = 50_000_000


class NothingToImport(ValueError):
    """The source holds nothing an importer can read (empty, compressed, binary, too large)."""


@dataclass(frozen=True)
class Fetched:
    chunks: list[bytes] | None
    """The body as lines, or None when the server said it has not changed (304)."""
    size: int


class FeedCache:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            loaded: dict[str, dict[str, str]] = json.loads(self.path.read_text())
            return loaded
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def validators(self, url: str) -> dict[str, str]:
        return self._load().get(url, {})

    def remember(self, url: str, response: httpx.Response) -> None:
        data = self._load()
        data[url] = {
            k: v
            for k, v in (
                ("etag", response.headers.get("etag")),
                ("last_modified", response.headers.get("last-modified")),
            )
            if v
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2))


def fetch(url: str, cache: FeedCache, *, timeout: float = 30.0) -> Fetched:
    """GET a feed, conditional on what the cache remembers; raises for HTTP errors."""
    known = cache.validators(url)
    headers = {}
    if "etag" in known:
        headers["If-None-Match"] = known["etag"]
    if "last_modified" in known:
        headers["If-Modified-Since"] = known["last_modified"]
    url = url.replace("webcal://", "https://", 1)
    with (
        httpx.Client(timeout=timeout, follow_redirects=True) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        if response.status_code == 304:
            return Fetched(None, 0)
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_FEED_BYTES:
                raise NothingToImport(f"feed larger than {MAX_FEED_BYTES:,} bytes")
        cache.remember(url, response)
    return Fetched(body_lines(bytes(body)), len(body))


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "webcal://"))


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def text_encoding(head: bytes) -> str | None:
    """``utf-16`` for a UTF-16 text (Windows tools write CSV and vCards so), None for a byte
    text; raises ``NothingToImport`` for what is no text at all, judged by its first bytes."""
    if not head.strip():
        raise NothingToImport("the file is empty")
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    if head.startswith(b"\x1f\x8b"):
        raise NothingToImport("a gzip-compressed file: unpack it first (gunzip)")
    if head.startswith(b"PK\x03\x04"):
        raise NothingToImport("a zip archive: unpack it first")
    if b"\x00" in head:
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd > len(head) // 3 and not even:
            return "utf-16-le"
        if even > len(head) // 3 and not odd:
            return "utf-16-be"
        raise NothingToImport("a binary file, not text")
    return None


def _transcoded(lines: Iterable[str]) -> Iterator[bytes]:
    for line in lines:
        yield line.encode("utf-8")


def body_lines(body: bytes) -> list[bytes]:
    """A fetched body's lines as UTF-8 bytes."""
    encoding = text_encoding(body[:4096])
    if encoding is None:
        return body.splitlines(keepends=True)
    return list(_transcoded(body.decode(encoding, errors="replace").splitlines(keepends=True)))


def file_lines(
    path: Path, progress: object | None = None, *, max_bytes: int | None = None
) -> Iterator[bytes]:
    """A file's lines as UTF-8 bytes (UTF-16 files transcoded); advances a rich progress task
    by bytes read. What the file is, and its size against ``max_bytes``, is checked here,
    before any line is read: a ``NothingToImport`` is raised now, not while importing."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise NothingToImport(f"{size:,} bytes, over the limit of {max_bytes:,} for this kind")
    with path.open("rb") as handle:
        encoding = text_encoding(handle.read(4096))
    return _read_lines(path, encoding, progress)


def _read_lines(path: Path, encoding: str | None, progress: object | None) -> Iterator[bytes]:
    with path.open("rb") as handle:
        lines: Iterable[bytes] = handle
        if encoding is not None:
            text = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
            lines = _transcoded(text)
        for line in lines:
            if progress is not None:
                progress.advance(len(line))  # type: ignore[attr-defined]
            yield line
