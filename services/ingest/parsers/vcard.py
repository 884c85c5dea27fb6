"""vCard 2.1, 3.0 and 4.0 from Gmail, iPhone, Android, Outlook, Mac, Lotus Notes, Thunderbird.

Content lines are read with vobject's line parser. What vobject does not handle in old
exports is done here before it: quoted-printable soft line breaks, per-property
charsets, and 2.1 base64 blocks without folding (photos and keys are skipped unread).
"""

from __future__ import annotations

import logging
import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vobject.base import ParseError, parseLine

from services.ingest.parsers.common import (
    Item,
    Parsed,
    Problem,
    clean_email,
    numbered_lines,
    printable,
    stable_key,
)
from shared import topics
from shared.messages.inputs import ContactUpserted

logging.getLogger("vobject").setLevel(logging.CRITICAL)

BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
PROPERTY_START = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?[;:]")
MAX_CARD_LINES = 5_000


@dataclass
class _Card:
    start: int
    lines: list[tuple[int, str]] = field(default_factory=list)


def _unfold(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Logical content lines: folding, QP soft breaks and 2.1 base64 runs undone."""
    out: list[list[Any]] = []
    for number, line in lines:
        if out:
            last = out[-1]
            if line[:1] in (" ", "\t"):
                last[1] += line[1:]
                continue
            if last[2] and last[1].endswith("="):  # quoted-printable soft line break
                last[1] = last[1][:-1] + line
                continue
            if last[3] and line and not PROPERTY_START.match(line):
                continue  # 2.1 base64 data running on without folding
        if not line.strip():
            continue
        head = line.split(":", 1)[0].upper()
        name = re.split(r"[;:]", line, maxsplit=1)[0].split(".")[-1].upper()
        out.append([number, line, "QUOTED-PRINTABLE" in head, name in BINARY])
    return [(n, text) for n, text, _, binary in out if not binary]


def _params(raw: list[list[str]]) -> tuple[dict[str, str], set[str]]:
    named: dict[str, str] = {}
    flags: set[str] = set()
    for param in raw:
        if len(param) == 1:
            flags.add(param[0].upper())
        else:
            name = param[0].upper()
            for value in param[1:]:
                if name == "TYPE":
                    flags.update(v.upper() for v in value.split(","))
                else:
                    named[name] = value
    return named, flags


def _decode(value: str, named: dict[str, str], flags: set[str]) -> str:
    if named.get("ENCODING", "").upper() == "QUOTED-PRINTABLE" or "QUOTED-PRINTABLE" in flags:
        data = quopri.decodestring(value.encode("latin-1", errors="replace"))
        charset = named.get("CHARSET", "utf-8")
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return data.decode("cp1252", errors="replace")
    return value


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _components(text: str) -> list[str]:
    """Split a structured value on unescaped semicolons."""
    return [_unescape(p).strip() for p in re.split(r"(?<!\\);", text)]


def _card_to_contact(card: _Card, source_name: str) -> Iterator[Item]:
    props: dict[str, list[tuple[str, set[str]]]] = {}
    for number, line in _unfold(card.lines):
        try:
            name, raw_params, value, _group = parseLine(line)
        except ParseError as error:
            yield Problem(number, f"unreadable vCard line skipped: {error}", "warning")
            continue
        named, flags = _params(raw_params or [])
        props.setdefault(name.upper(), []).append((_decode(value, named, flags), flags))

    def first(name: str) -> str | None:
        values = props.get(name)
        return _unescape(values[0][0]).strip() or None if values else None

    full_name = first("FN")
    if not full_name and props.get("N"):
        parts = [*_components(props["N"][0][0]), "", "", ""]
        full_name = (
            " ".join(p for p in (parts[3], parts[1], parts[2], parts[0], parts[4]) if p) or None
        )
    emails: list[str] = []
    bad: list[str] = []
    for value, _ in props.get("EMAIL", []):
        (emails if clean_email(value) else bad).append(clean_email(value) or value)
    for value in bad:
        yield Problem(card.start, f"invalid e-mail {value!r} left out", "warning")
    phones = [_unescape(v).strip() for v, _ in props.get("TEL", []) if any(c.isdigit() for c in v)]
    org = _components(props["ORG"][0][0])[0] if props.get("ORG") else None
    city = country = None
    for value, _flags in sorted(props.get("ADR", []), key=lambda item: "WORK" not in item[1]):
        parts = _components(value) + [""] * 7
        city, country = parts[3] or None, parts[6] or None
        break
    urls = [
        _unescape(v).strip() for v, _ in props.get("URL", []) + props.get("X-SOCIALPROFILE", [])
    ]
    profile = next((u for u in urls if "linkedin.com" in u.lower()), None)
    if not full_name:
        full_name = emails[0] if emails else (phones[0] if phones else None)
    if not full_name:
        yield Problem(card.start, "card has no name, e-mail or phone")
        return
    uid = first("UID") or stable_key(source_name, full_name, *(emails or phones))
    try:
        contact = ContactUpserted(
            external_id=uid[:256],
            full_name=full_name[:200],
            emails=list(dict.fromkeys(emails))[:20],
            phones=phones[:20],
            company=(org or None) and org[:200],
            title=(first("TITLE") or first("ROLE") or "")[:200] or None,
            city=(city or None) and city[:200],
            country=country.upper() if country and len(country) == 2 else None,
            profile_url=profile[:500] if profile else None,
        )
    except ValueError as error:
        yield Problem(card.start, f"card could not be read: {error}")
        return
    yield Parsed(topics.CONTACTS, contact, card.start)


def _property_name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].split(".")[-1].upper()


def parse(chunks: Iterable[bytes], *, source_name: str = "vcard") -> Iterator[Item]:
    """Contacts from a vCard file, card by card (memory bounded by the largest card).

    PHOTO, LOGO, SOUND and KEY values are skipped unread as the lines stream by, however
    long (a 10 MB photo is 130,000 lines of base64), so they never count against a card's
    length. A file whose first text is not a card is not a vCard file: one error, not a
    warning per line."""
    card: _Card | None = None
    in_binary = False
    seen_card = False
    for number, line in numbered_lines(chunks):
        upper = line.strip().upper()
        if in_binary:
            if line[:1] in (" ", "\t") or (line.strip() and not PROPERTY_START.match(line)):
                continue  # the value's folded or (vCard 2.1) unfolded base64 lines
            in_binary = False
            if not line.strip():
                continue
        if upper == "BEGIN:VCARD":
            if card is not None:
                yield Problem(card.start, "card has no END:VCARD; skipped")
            card, seen_card = _Card(number), True
        elif upper == "END:VCARD":
            if card is None:
                yield Problem(number, "END:VCARD without BEGIN:VCARD")
                continue
            yield from _card_to_contact(card, source_name)
            card = None
        elif card is not None:
            if _property_name(line) in BINARY and PROPERTY_START.match(line):
                in_binary = True
                continue
            if len(card.lines) >= MAX_CARD_LINES:
                yield Problem(card.start, f"card longer than {MAX_CARD_LINES} lines; skipped")
                card = None
                continue
            card.lines.append((number, line))
        elif line.strip():
            if not seen_card:
                yield Problem(number, f"not a vCard file (it begins {printable(line[:40])!r})")
                return
            yield Problem(number, "text outside any card", "warning", "text outside any card")
    if card is not None:
        yield Problem(card.start, "card has no END:VCARD; skipped")
