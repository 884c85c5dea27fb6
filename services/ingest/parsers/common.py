"""What parsers yield, and helpers they share."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from shared.messages import Message


@dataclass(frozen=True, slots=True)
class Parsed:
    """One raw input message, with the line (or row) it starts at."""

    topic: str
    data: Message
    line: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the file that was not imported (``rejected``), only partly (``warning``),
    or left out on purpose (``skipped``, e.g. a cancelled event).

    ``kind`` names problems of one sort, so a summary can count the hundredth of them
    instead of listing it."""

    line: int
    reason: str
    severity: Literal["rejected", "warning", "skipped"] = "rejected"
    kind: str | None = None


Item = Parsed | Problem


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text from a file made safe for a terminal: control characters (escape sequences that
    retitle a window or clear the screen, among them) shown as ``\\x1b`` instead of acted on."""
    return _CONTROL.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def decode_line(raw: bytes) -> str:
    """UTF-8, else Windows-1252 (older Outlook and Android exports), never an error."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def numbered_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text without its line ending) from a byte stream, one line at a time."""
    for number, raw in enumerate(chunks, start=1):
        text = decode_line(raw)
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield number, text.rstrip("\r\n")


def clean_email(value: str) -> str | None:
    """A valid, normalised address, or None (syntax only: no DNS look-ups)."""
    candidate = value.strip().removeprefix("mailto:").removeprefix("MAILTO:").strip()
    if not candidate:
        return None
    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def stable_key(*parts: str) -> str:
    """A short deterministic id from content, for records that carry no id of their own."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def sniff_dialect(header: str) -> type[csv.Dialect] | csv.Dialect:
    """The header's delimiter (comma, semicolon or tab); plain CSV if it cannot tell."""
    try:
        delimiter = csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return csv.excel
    # Only the delimiter is taken from the sniffer: from a header without quotes it cannot
    # tell how quotes are escaped, and exports double them.
    return type("Sniffed", (csv.excel,), {"delimiter": delimiter})


def header_cells(header: str, dialect: type[csv.Dialect] | csv.Dialect) -> list[str] | None:
    """The header row's cells, or None if it is not CSV at all."""
    try:
        return next(csv.reader([header], dialect), None)
    except csv.Error:
        return None
