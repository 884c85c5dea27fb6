"""Reading an import source: a local file, or a feed URL fetched with ETag / If-Modified-Since.

The validators of each URL are kept in a small JSON file, so polling a feed that has not
changed costs one 304 and imports nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

MAX_FEED_BYTES = 50_000_000


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
            return json.loads(self.path.read_text())
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
                raise ValueError(f"feed larger than {MAX_FEED_BYTES} bytes")
        cache.remember(url, response)
    return Fetched(bytes(body).splitlines(keepends=True), len(body))


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "webcal://"))


def file_lines(path: Path, progress: object | None = None) -> Iterator[bytes]:
    """A file's lines as bytes; advances a rich progress task by bytes read."""
    with path.open("rb") as handle:
        for line in handle:
            if progress is not None:
                progress.advance(len(line))  # type: ignore[attr-defined]
            yield line
