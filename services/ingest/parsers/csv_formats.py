"""CRM and address-book CSV exports: LinkedIn, HubSpot, Salesforce, Google, Outlook, or any
CSV with a column mapping. The format is recognised from the header row.

Each format is a mapping from Springboard's fields to the column labels that format (or
its language variants) uses; the first label present wins.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from dateutil import parser as dateparser

from services.ingest.parsers.common import (
    Item,
    Parsed,
    Problem,
    clean_email,
    header_cells,
    numbered_lines,
    sniff_dialect,
    stable_key,
)
from shared import topics
from shared.messages.inputs import Attendee, ContactUpserted, MeetingRecorded

FIELDS = (
    "id",
    "full_name",
    "first_name",
    "last_name",
    "email",
    "email2",
    "phone",
    "phone2",
    "company",
    "title",
    "industry",
    "city",
    "country",
    "profile_url",
    "connected_on",
    "last_activity",
    "customer",
)


@dataclass(frozen=True)
class CsvFormat:
    name: str
    columns: dict[str, tuple[str, ...]]
    signature: tuple[str, ...]
    """Columns that all appear in this format's header (case-insensitive)."""
    customer_values: tuple[str, ...] = ("customer", "kund")
    variant: str = ""
    """Which of a product's exports (``report``, ``lead``…): ``--format name-variant``."""

    @property
    def full_name(self) -> str:
        return f"{self.name}-{self.variant}" if self.variant else self.name

    def score(self, header: set[str]) -> int:
        return len(self.signature) if all(s.lower() in header for s in self.signature) else 0

    def fit(self, header: set[str]) -> int:
        """How many of this format's fields the header has a column for."""
        return sum(any(c.lower() in header for c in labels) for labels in self.columns.values())


HUBSPOT_COLUMNS = {
    "id": ("Record ID - Contact", "Record ID", "Contact ID", "Post-ID"),
    "first_name": ("First Name", "First name", "Förnamn"),
    "last_name": ("Last Name", "Last name", "Efternamn"),
    "email": ("Email", "E-post"),
    "phone": ("Phone Number", "Telefonnummer"),
    "phone2": ("Mobile Phone Number", "Mobiltelefonnummer"),
    "company": ("Company Name", "Associated Company", "Företagsnamn"),
    "title": ("Job Title", "Jobbtitel"),
    "industry": ("Industry", "Bransch"),
    "city": ("City", "Ort", "Stad"),
    "country": ("Country/Region", "Land/region"),
    "last_activity": ("Last Activity Date", "Datum för senaste aktivitet"),
    "customer": ("Lifecycle Stage", "Livscykelstadium"),
}

SALESFORCE_REPORT_COLUMNS = {
    "id": ("Contact ID", "Lead ID"),
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
    "full_name": ("Full Name", "Contact Name", "Name"),
    "email": ("Email",),
    "phone": ("Phone",),
    "phone2": ("Mobile", "Mobile Phone"),
    "company": ("Account Name", "Company / Account", "Company"),
    "title": ("Title",),
    "industry": ("Industry",),
    "city": ("Mailing City", "City"),
    "country": ("Mailing Country", "Country"),
    "last_activity": ("Last Activity",),
}

# Outlook writes its column labels in the language of the installation.
OUTLOOK_LANGUAGES = {
    "de": {
        "first_name": ("Vorname",),
        "last_name": ("Nachname",),
        "email": ("E-Mail-Adresse",),
        "email2": ("E-Mail 2: Adresse",),
        "phone": ("Telefon geschäftlich",),
        "phone2": ("Mobiltelefon",),
        "company": ("Firma",),
        "title": ("Position",),
        "city": ("Ort geschäftlich",),
        "country": ("Land/Region geschäftlich", "Land geschäftlich"),
    },
    "fr": {
        "first_name": ("Prénom",),
        "last_name": ("Nom",),
        "email": ("Adresse de messagerie",),
        "email2": ("Adresse de messagerie 2",),
        "phone": ("Téléphone (bureau)", "Téléphone bureau"),
        "phone2": ("Tél. mobile", "Téléphone mobile"),
        "company": ("Société",),
        "title": ("Fonction", "Titre"),
        "city": ("Ville (bureau)",),
        "country": ("Pays/Région (bureau)",),
    },
    "es": {
        "first_name": ("Nombre",),
        "last_name": ("Apellidos",),
        "email": ("Dirección de correo electrónico",),
        "email2": ("Dirección de correo electrónico 2",),
        "phone": ("Teléfono del trabajo",),
        "phone2": ("Teléfono móvil",),
        "company": ("Organización", "Compañía"),
        "title": ("Puesto",),
        "city": ("Ciudad de trabajo",),
        "country": ("País o región de trabajo",),
    },
    "nl": {
        "first_name": ("Voornaam",),
        "last_name": ("Achternaam",),
        "email": ("E-mailadres",),
        "email2": ("E-mailadres 2",),
        "phone": ("Telefoon op werk",),
        "phone2": ("Mobiele telefoon",),
        "company": ("Bedrijf",),
        "title": ("Functie",),
        "city": ("Plaats (werk)", "Plaats werk"),
        "country": ("Land/regio (werk)",),
    },
    "sv": {
        "first_name": ("Förnamn",),
        "last_name": ("Efternamn",),
        "email": ("E-postadress",),
        "email2": ("E-post 2 adress", "E-postadress 2"),
        "phone": ("Arbetstelefon", "Telefon, arbete"),
        "phone2": ("Mobiltelefon",),
        "company": ("Företag",),
        "title": ("Befattning",),
        "city": ("Ort, arbete", "Ort (arbete)"),
        "country": ("Land/region, arbete",),
    },
}

FORMATS: tuple[CsvFormat, ...] = (
    CsvFormat(
        "linkedin",
        {
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "profile_url": ("URL",),
            "email": ("Email Address",),
            "company": ("Company",),
            "title": ("Position",),
            "connected_on": ("Connected On",),
        },
        # Older exports have no URL column.
        ("First Name", "Last Name", "Connected On"),
    ),
    # HubSpot's labels follow the exported view and the account's language.
    *(
        CsvFormat("hubspot", HUBSPOT_COLUMNS, (signature,))
        for signature in ("Record ID - Contact", "Record ID", "Post-ID")
    ),
    CsvFormat(
        "salesforce",
        {
            "id": ("Id", "ID"),
            "first_name": ("FirstName",),
            "last_name": ("LastName",),
            "full_name": ("Name",),
            "email": ("Email",),
            "phone": ("Phone",),
            "phone2": ("MobilePhone",),
            "company": ("Account.Name", "AccountName", "Company"),
            "title": ("Title",),
            "industry": ("Industry", "Account.Industry"),
            "city": ("MailingCity", "City"),
            "country": ("MailingCountry", "Country"),
            "last_activity": ("LastActivityDate",),
        },
        ("FirstName", "LastName"),
        variant="api",
    ),
    # Reports exported from Salesforce's UI use the field labels: contact reports name the
    # account, lead reports the company.
    *(
        CsvFormat(
            "salesforce",
            SALESFORCE_REPORT_COLUMNS,
            signature,
            variant=variant,
        )
        for variant, signature in (
            ("report", ("Account Name",)),
            ("lead", ("Lead Owner",)),
            ("lead", ("Company / Account",)),
        )
    ),
    CsvFormat(
        "google",
        {
            "first_name": ("First Name", "Given Name"),
            "last_name": ("Last Name", "Family Name"),
            "full_name": ("Name",),
            "email": ("E-mail 1 - Value",),
            "email2": ("E-mail 2 - Value",),
            "phone": ("Phone 1 - Value",),
            "phone2": ("Phone 2 - Value",),
            "company": ("Organization Name", "Organization 1 - Name"),
            "title": ("Organization Title", "Organization 1 - Title"),
            "city": ("Address 1 - City",),
            "country": ("Address 1 - Country",),
        },
        ("E-mail 1 - Value",),
    ),
    CsvFormat(
        "outlook",
        {
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "email": ("E-mail Address",),
            "email2": ("E-mail 2 Address",),
            "phone": ("Business Phone",),
            "phone2": ("Mobile Phone",),
            "company": ("Company",),
            "title": ("Job Title",),
            "city": ("Business City",),
            "country": ("Business Country/Region", "Business Country"),
        },
        ("E-mail Address", "Business Phone"),
    ),
    *(
        CsvFormat(
            "outlook",
            columns,
            (columns["first_name"][0], columns["last_name"][0], columns["email"][0]),
            variant=language,
        )
        for language, columns in OUTLOOK_LANGUAGES.items()
    ),
)

FAMILIES = sorted({f.name for f in FORMATS} | {f.full_name for f in FORMATS})

# Report exports end with lines that are not records: Salesforce's totals, its
# confidentiality notice and copyright line.
FOOTER = re.compile(
    r"^(grand totals?\b|total\b|confidential information|copyright\b|©|generated by\b)",
    re.IGNORECASE,
)


def generic_format(mapping_file: Path) -> CsvFormat:
    """A format from a JSON mapping file, e.g. ``{"full_name": "Name", "email": "Mail"}``."""
    mapping = json.loads(mapping_file.read_text())
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise ValueError(
            f"unknown fields in mapping: {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}"
        )
    columns = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in mapping.items()}
    return CsvFormat("generic", columns, ())


def detect(header: list[str], name: str | None = None) -> CsvFormat | None:
    """The format the header is in; with ``name`` (``salesforce``, ``outlook-de``…) the one of
    that product's variants whose columns the header has most of."""
    names = {h.strip().lower() for h in header}
    if name:
        family = [f for f in FORMATS if name in (f.name, f.full_name)]
        return max(family, key=lambda f: (f.fit(names), f.score(names))) if family else None
    best = max(FORMATS, key=lambda f: f.score(names))
    return best if best.score(names) else None


def _find_header(lines: Iterator[tuple[int, str]]) -> tuple[int, str, list[tuple[int, str]]] | None:
    """Skip note lines before the header (LinkedIn writes some): the header is the first line
    with at least two delimited cells among the first 20 lines."""
    skipped: list[tuple[int, str]] = []
    for number, line in lines:
        if line.count(",") + line.count(";") + line.count("\t") >= 2:
            return number, line, skipped
        skipped.append((number, line))
        if len(skipped) > 20:
            return None
    return None


def _date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%d %b %Y", "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    try:
        parsed: datetime = dateparser.parse(value, dayfirst=False)
        return parsed.date()
    except (ValueError, OverflowError):
        return None


def parse(
    chunks: Iterable[bytes],
    *,
    fmt: CsvFormat | None = None,
    fmt_name: str | None = None,
    source_name: str = "csv",
) -> Iterator[Item]:
    """Contacts (and last CRM activity as an interaction) from a CSV export, row by row."""
    lines = numbered_lines(chunks)
    found = _find_header(lines)
    if found is None:
        yield Problem(1, "no header row found")
        return
    header_line, header_text, _notes = found
    dialect = sniff_dialect(header_text)
    header = header_cells(header_text, dialect)
    if header is None:
        yield Problem(header_line, "the header line is not CSV")
        return
    fmt = fmt or detect(header, fmt_name)
    if fmt is None:
        yield Problem(
            header_line,
            f"unknown CSV format (header: {', '.join(header[:8])}); "
            "give --format or a mapping file",
        )
        return
    index: dict[str, int] = {}
    for i, label in enumerate(header):
        # The first column of a label wins: HubSpot repeats the contact's labels (Phone
        # Number, Last Activity Date) for the associated company after the contact's own.
        index.setdefault(label.strip().lower(), i)
    columns = {
        field: next((index[c.lower()] for c in labels if c.lower() in index), None)
        for field, labels in fmt.columns.items()
    }

    names = [f for f in NAME_FIELDS if f in fmt.columns] or ["email"]
    if all(columns.get(f) is None for f in names):
        # e.g. a Salesforce report (labels) read as the API export: names would be addresses
        yield Problem(
            header_line,
            f"the header has none of the {fmt.full_name} format's name or e-mail columns "
            f"(header: {', '.join(header[:8])})",
        )
        return
    for line, row in records(lines, dialect, header_line):
        if isinstance(row, Problem):
            yield row
            return
        if _is_footer(row):
            footer = next(cell.strip() for cell in row if cell.strip())
            yield Problem(
                line, f"a report's footer, not a contact: {footer[:60]!r}", "skipped", "footer"
            )
            continue
        yield from _row(row, columns, fmt, line, source_name, len(header))


NAME_FIELDS = ("full_name", "first_name", "last_name")


def _is_footer(row: list[str]) -> bool:
    filled = [cell.strip() for cell in row if cell.strip()]
    return len(filled) == 1 and bool(FOOTER.match(filled[0]))


def records(
    lines: Iterator[tuple[int, str]], dialect: type[csv.Dialect] | csv.Dialect, after: int
) -> Iterator[tuple[int, list[str] | Problem]]:
    """CSV records from numbered lines, with the line each starts on (a quoted field may span
    lines, so csv reads the raw lines itself)."""
    numbers: list[int] = []

    def text_lines() -> Iterator[str]:
        for number, line in lines:
            numbers.append(number)
            yield line + "\n"

    reader = csv.reader(text_lines(), dialect)
    while True:
        start = len(numbers)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            where = numbers[-1] if numbers else after
            yield where, Problem(where, f"unreadable CSV: {error}")
            return
        if any(cell.strip() for cell in row):
            yield (numbers[start] if start < len(numbers) else after), row


MAX_PHONE = 40
MULTI_VALUE = " ::: "
"""Google Contacts' separator for several values in one cell (``a@x ::: b@y``)."""


def _values(*cells: str) -> list[str]:
    return [v.strip() for cell in cells for v in cell.split(MULTI_VALUE.strip()) if v.strip()]


def _row(
    row: list[str],
    columns: dict[str, int | None],
    fmt: CsvFormat,
    line: int,
    source_name: str,
    width: int,
) -> Iterator[Item]:
    def get(field: str) -> str:
        i = columns.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    if len(row) > width + 5:
        yield Problem(line, f"row has {len(row)} cells, the header {width}")
        return
    name = get("full_name") or " ".join(p for p in (get("first_name"), get("last_name")) if p)
    emails: list[str] = []
    bad: list[str] = []
    for raw in _values(get("email"), get("email2")):
        (emails if clean_email(raw) else bad).append(clean_email(raw) or raw)
    for raw in bad:
        yield Problem(line, f"invalid e-mail {raw[:80]!r} left out", "warning", "invalid e-mail")
    phones = []
    for raw in _values(get("phone"), get("phone2")):
        if len(raw) > MAX_PHONE:
            yield Problem(
                line,
                f"phone {raw[:50]!r}… is over {MAX_PHONE} characters; left out",
                "warning",
                "over-long phone",
            )
        elif any(c.isdigit() for c in raw):
            phones.append(raw)
    emails = list(dict.fromkeys(emails))[:20]
    phones = list(dict.fromkeys(phones))[:20]
    if not name and not emails and not phones:
        yield Problem(line, "row has no name, e-mail or phone")
        return
    name = name or (emails[0] if emails else phones[0])
    external = get("id") or get("profile_url") or stable_key(fmt.name, name, *emails, *phones)
    country = get("country")
    try:
        contact = ContactUpserted(
            external_id=external[:256],
            full_name=name[:200],
            emails=emails,
            phones=phones,
            company=get("company")[:200] or None,
            title=get("title")[:200] or None,
            industry=get("industry")[:200] or None,
            city=get("city")[:200] or None,
            country=country.upper() if len(country) == 2 else None,
            profile_url=get("profile_url")[:500] or None,
            is_customer=get("customer").lower() in fmt.customer_values,
            connected_on=_date(get("connected_on")),
        )
    except ValueError as error:
        yield Problem(line, f"row could not be read: {error}")
        return
    yield Parsed(topics.CONTACTS, contact, line)
    activity = _date(get("last_activity"))
    if activity and emails:
        at = datetime(activity.year, activity.month, activity.day, 12, tzinfo=UTC)
        yield Parsed(
            topics.MEETINGS,
            MeetingRecorded(
                external_id=f"{source_name}:{fmt.name}:{external}:activity:{activity.isoformat()}"[
                    :512
                ],
                title="CRM activity",
                starts_at=at,
                attendees=[Attendee(email=emails[0], name=name)],
            ),
            line,
        )


def read_text(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from handle


def parse_text(text: str, **kwargs: object) -> list[Item]:
    """Convenience for tests and small inputs."""
    return list(parse(io.BytesIO(text.encode()), **kwargs))  # type: ignore[arg-type]
