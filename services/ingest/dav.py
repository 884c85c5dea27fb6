"""A CalDAV and CardDAV client for syncing: find the collections, ask what changed, fetch it.

Written on httpx: the ``caldav`` library has no CardDAV, and one client for both keeps one
sync logic for calendars and address books. What it speaks:

- discovery (RFC 4791 / 6352 / 5397): ``current-user-principal``, then
  ``calendar-home-set`` or ``addressbook-home-set``, then the collections in that home;
  a URL that is itself a calendar or address book is used as it is;
- incremental sync (RFC 6578): ``sync-collection`` with the stored token, which answers
  with the members changed or removed since; a server that refuses the token
  (``valid-sync-token``) is resynced whole;
- without ``sync-collection``: the collection's ``getctag`` (unchanged: nothing to do),
  then every member's ``getetag`` compared with the stored ones;
- ``calendar-multiget`` / ``addressbook-multiget`` for the changed members' data.

Responses are parsed with defusedxml (a server's XML is not trusted), and credentials go
only in the ``Authorization`` header, never into an error or a log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml

DAV, CALDAV, CARDDAV, CALSERVER = (
    "DAV:",
    "urn:ietf:params:xml:ns:caldav",
    "urn:ietf:params:xml:ns:carddav",
    "http://calendarserver.org/ns/",
)
MULTIGET_BATCH = 100
"""Members fetched per multiget request."""


class Kind(StrEnum):
    caldav = "caldav"
    carddav = "carddav"


HOME_SET = {
    Kind.caldav: (CALDAV, "calendar-home-set"),
    Kind.carddav: (CARDDAV, "addressbook-home-set"),
}
RESOURCE = {Kind.caldav: (CALDAV, "calendar"), Kind.carddav: (CARDDAV, "addressbook")}
DATA = {Kind.caldav: (CALDAV, "calendar-data"), Kind.carddav: (CARDDAV, "address-data")}
MULTIGET = {
    Kind.caldav: (CALDAV, "calendar-multiget"),
    Kind.carddav: (CARDDAV, "addressbook-multiget"),
}


class DavError(Exception):
    """One line for the person running the sync."""


class Unauthorized(DavError):
    pass


class TokenInvalid(DavError):
    """The server no longer knows the stored sync token: sync the collection whole."""


@dataclass(frozen=True)
class Collection:
    url: str
    name: str
    sync_token: str | None
    ctag: str | None


@dataclass
class Changes:
    """What ``sync-collection`` or an ETag comparison found: members changed (href -> etag)
    and removed, and the token to store for next time (None: the server has none)."""

    changed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    token: str | None = None


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _body(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root)


def _propfind(*props: tuple[str, str]) -> bytes:
    root = Element(_tag(DAV, "propfind"))
    prop = SubElement(root, _tag(DAV, "prop"))
    for namespace, name in props:
        SubElement(prop, _tag(namespace, name))
    return _body(root)


class DavClient:
    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.url = url
        self.requests: Counter[str] = Counter()
        """Requests made, by what they asked: ``PROPFIND``, ``sync-collection``, ``multiget``."""
        self._http = httpx.Client(
            auth=auth, timeout=timeout, follow_redirects=True, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DavClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------

    def _request(self, method: str, url: str, body: bytes, depth: str) -> Element:
        self.requests[method if method != "REPORT" else _report_kind(body)] += 1
        try:
            response = self._http.request(
                method,
                url,
                content=body,
                headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
            )
        except httpx.HTTPError as error:
            raise DavError(f"{_where(url)}: {type(error).__name__}") from None
        if response.status_code == 401:
            raise Unauthorized(f"{_where(url)}: the server refused the user name or password (401)")
        if response.status_code in (403, 409) and b"valid-sync-token" in response.content:
            raise TokenInvalid(f"{_where(url)}: the server no longer knows the sync token")
        if response.status_code != 207:
            raise DavError(f"{_where(url)}: {method} answered {response.status_code}")
        try:
            return parse_xml(response.content)  # type: ignore[no-any-return]
        except ParseError:
            raise DavError(f"{_where(url)}: {method} answered with malformed XML") from None

    def _responses(
        self, method: str, url: str, body: bytes, depth: str
    ) -> Iterable[tuple[str, int, Element]]:
        """(absolute href, status, the ``prop`` element of that status) per response."""
        for response in self._request(method, url, body, depth).iter(_tag(DAV, "response")):
            href = urljoin(url, (response.findtext(_tag(DAV, "href")) or "").strip())
            status = _status(response.findtext(_tag(DAV, "status")))
            if status is not None:  # a removed member in a sync report
                yield href, status, Element("prop")
            for propstat in response.iter(_tag(DAV, "propstat")):
                prop = propstat.find(_tag(DAV, "prop"))
                code = _status(propstat.findtext(_tag(DAV, "status"))) or 200
                if prop is not None:
                    yield href, code, prop

    def _props(
        self, url: str, *props: tuple[str, str], depth: str = "0"
    ) -> list[tuple[str, Element]]:
        return [
            (href, prop)
            for href, status, prop in self._responses("PROPFIND", url, _propfind(*props), depth)
            if status == 200
        ]

    # -- discovery -------------------------------------------------------------

    def collections(self, kind: Kind) -> list[Collection]:
        """The calendars or address books at ``url``: the URL itself if it is one, else
        those in the home of its principal."""
        own = self._listing(self.url, kind, depth="0")
        if own:
            return own
        principal = self._href(self.url, (DAV, "current-user-principal")) or self.url
        home = self._href(principal, HOME_SET[kind])
        if home is None:
            raise DavError(f"{_where(self.url)}: no {kind.value} home found for this account")
        return self._listing(home, kind, depth="1")

    def _href(self, url: str, prop: tuple[str, str]) -> str | None:
        for _, found in self._props(url, prop):
            href = found.findtext(f"{_tag(*prop)}/{_tag(DAV, 'href')}")
            if href:
                return urljoin(url, href.strip())
        return None

    def _listing(self, url: str, kind: Kind, depth: str) -> list[Collection]:
        wanted = _tag(*RESOURCE[kind])
        found: dict[str, Collection] = {}
        for href, prop in self._props(
            url,
            (DAV, "resourcetype"),
            (DAV, "displayname"),
            (DAV, "sync-token"),
            (CALSERVER, "getctag"),
            depth=depth,
        ):
            types = prop.find(_tag(DAV, "resourcetype"))
            if types is None or types.find(wanted) is None:
                continue
            found[href] = Collection(
                url=href,
                name=(prop.findtext(_tag(DAV, "displayname")) or "").strip()
                or urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1],
                sync_token=(prop.findtext(_tag(DAV, "sync-token")) or "").strip() or None,
                ctag=(prop.findtext(_tag(CALSERVER, "getctag")) or "").strip() or None,
            )
        return list(found.values())

    # -- what changed ----------------------------------------------------------

    def sync_collection(self, collection: Collection, token: str | None) -> Changes:
        """RFC 6578: the members changed and removed since ``token`` (all, without one)."""
        root = Element(_tag(DAV, "sync-collection"))
        SubElement(root, _tag(DAV, "sync-token")).text = token or ""
        SubElement(root, _tag(DAV, "sync-level")).text = "1"
        prop = SubElement(root, _tag(DAV, "prop"))
        SubElement(prop, _tag(DAV, "getetag"))
        report = self._request("REPORT", collection.url, _body(root), depth="0")
        changes = Changes(token=(report.findtext(_tag(DAV, "sync-token")) or "").strip() or None)
        for response in report.iter(_tag(DAV, "response")):
            href = urljoin(collection.url, (response.findtext(_tag(DAV, "href")) or "").strip())
            if _is_collection(href, collection.url):
                continue
            if _status(response.findtext(_tag(DAV, "status"))) == 404:
                changes.removed.append(href)
                continue
            etag = response.findtext(f".//{_tag(DAV, 'getetag')}")
            if etag:
                changes.changed[href] = etag.strip()
        return changes

    def etags(self, collection: Collection) -> dict[str, str]:
        """Every member's ETag (for servers without ``sync-collection``)."""
        return {
            href: (prop.findtext(_tag(DAV, "getetag")) or "").strip()
            for href, prop in self._props(collection.url, (DAV, "getetag"), depth="1")
            if not _is_collection(href, collection.url)
        }

    def fetch(
        self, collection: Collection, kind: Kind, hrefs: Sequence[str]
    ) -> dict[str, tuple[str, str]]:
        """href -> (etag, the member's iCalendar or vCard text), by multiget."""
        out: dict[str, tuple[str, str]] = {}
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            root = Element(_tag(*MULTIGET[kind]))
            prop = SubElement(root, _tag(DAV, "prop"))
            SubElement(prop, _tag(DAV, "getetag"))
            SubElement(prop, _tag(*DATA[kind]))
            for href in hrefs[start : start + MULTIGET_BATCH]:
                SubElement(root, _tag(DAV, "href")).text = urlsplit(href).path
            for href, status, found in self._responses("REPORT", collection.url, _body(root), "1"):
                data = found.findtext(_tag(*DATA[kind]))
                if status == 200 and data:
                    out[href] = ((found.findtext(_tag(DAV, "getetag")) or "").strip(), data)
        return out


def _report_kind(body: bytes) -> str:
    return "sync-collection" if b"sync-collection" in body else "multiget"


def _status(line: str | None) -> int | None:
    """The code of an HTTP status line (``HTTP/1.1 404 Not Found`` -> 404)."""
    parts = (line or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _is_collection(href: str, collection_url: str) -> bool:
    return urlsplit(href).path.rstrip("/") == urlsplit(collection_url).path.rstrip("/")


def _where(url: str) -> str:
    """The server and path, never user information a URL may carry."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


def describe(collection: Collection) -> dict[str, Any]:
    return {"url": _where(collection.url), "name": collection.name}
