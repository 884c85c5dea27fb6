"""Normalisation of what people type: e-mails, company names, job titles, cities, industries;
and which e-mail addresses belong to a person, and which to a room, a list, a mailbox or a
machine (calendars and CRMs are full of the latter; none of them is someone to meet)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LEGAL_SUFFIXES = re.compile(
    r"[\s,]+(ab|publ|\(publ\)|inc\.?|incorporated|ltd\.?|limited|llc|gmbh|ag|oy|oyj|as|asa|a/s|"
    r"sa|s\.a\.|bv|b\.v\.|nv|plc|corp\.?|corporation|co\.?|hb|kb)$",
    re.IGNORECASE,
)

# Title words to (function, seniority). Checked in order: the first match wins, so the
# more specific phrases come first. English and Swedish.
TITLE_RULES: tuple[tuple[str, str, str], ...] = (
    (
        r"\b(ceo|chief executive|vd|verkställande direktör|managing director|grundare|founder)\b",
        "CEO",
        "executive",
    ),
    (
        r"\b(cfo|chief financial|ekonomichef|finanschef|finance director|head of finance)\b",
        "CFO",
        "executive",
    ),
    (r"\b(cio|chief information|it-chef|it chef|it-direktör|head of it)\b", "CIO", "executive"),
    (r"\b(cto|chief technology|teknikchef|head of engineering)\b", "CTO", "executive"),
    (
        r"\b(cmo|chief marketing|marknadschef|marketing director|head of marketing)\b",
        "CMO",
        "executive",
    ),
    (r"\b(coo|chief operating|operativ chef|driftschef)\b", "COO", "executive"),
    (
        r"\b(försäljningschef|säljchef|head of sales|sales director|vp sales|cso|chief sales)\b",
        "Head of Sales",
        "director",
    ),
    (
        r"\b(inköpschef|head of procurement|procurement director|purchasing manager)\b",
        "Head of Procurement",
        "director",
    ),
    (r"\b(hr-chef|personalchef|head of hr|chro)\b", "Head of HR", "director"),
    (r"\b(controller|redovisningschef|accountant|ekonom)\b", "Finance", "staff"),
    (r"\b(developer|utvecklare|engineer|ingenjör|architect|arkitekt)\b", "Engineering", "staff"),
    (r"\b(account manager|key account|säljare|sales|kundansvarig)\b", "Sales", "staff"),
    (r"\b(marketing|marknadsförare|kommunikatör|brand)\b", "Marketing", "staff"),
    (r"\b(consultant|konsult|advisor|rådgivare)\b", "Consulting", "staff"),
)
_COMPILED_RULES = [(re.compile(p, re.IGNORECASE), f, s) for p, f, s in TITLE_RULES]
_MANAGER = re.compile(r"\b(manager|chef|head|director|direktör|ansvarig|lead)\b", re.IGNORECASE)

INDUSTRY_SYNONYMS = {
    "financial technology": "fintech",
    "financial services": "finance",
    "banking": "finance",
    "bank": "finance",
    "detaljhandel": "retail",
    "handel": "retail",
    "e-handel": "e-commerce",
    "ecommerce": "e-commerce",
    "information technology": "it",
    "it-tjänster": "it",
    "logistik": "logistics",
    "konsult": "consulting",
}


def email(value: str) -> str:
    return value.strip().lower()


# Google writes these into imported and shared calendars; rooms and resources have their
# own domain, as do group calendars.
MACHINE_DOMAINS = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "group.v.calendar.google.com",
    "import.calendar.google.com",
    "googlegroups.com",
)
MACHINE_ADDRESSES = {"unknownorganizer@calendar.google.com"}

# Senders that no one answers, and role mailboxes that a team reads, not one person.
NOT_A_PERSON = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|noreply[-+._].*|no-reply[-+._].*|bounces?[-+._]?.*"
    r"|mailer[-_]?daemon|postmaster|notifications?|notify|alerts?|automated|calendar"
    r"|calendar[-_.]notification|invitations?|info|sales|support|contact|hello|admin|office"
    r"|billing|accounts|invoices?|hr|jobs|careers|press|marketing|team|enquiries|inquiries"
    r"|reception|service|help|helpdesk|news|newsletter|webmaster|all|everyone|staff)$"
)
LIST_LOCAL = re.compile(r"(^|[-_.])(list|announce|users|discuss)($|[-_.])")
LIST_DOMAIN = re.compile(r"^(lists?|groups?)\.")


def not_a_person(address: str) -> str | None:
    """Why ``address`` is not a person's (``"a no-reply sender"``…), or None if it may be."""
    address = address.strip().lower()
    local, _, domain = address.rpartition("@")
    if address in MACHINE_ADDRESSES or domain.endswith(MACHINE_DOMAINS):
        return "a calendar system address"
    if NOT_A_PERSON.match(local):
        return "a shared or automated mailbox"
    if LIST_LOCAL.search(local) or LIST_DOMAIN.match(domain):
        return "a mailing list"
    return None


def company(value: str | None) -> str | None:
    """``Nordbank AB (publ)`` -> ``Nordbank``; blank -> None."""
    if not value or not value.strip():
        return None
    name = " ".join(value.split())
    previous = None
    while previous != name:
        previous = name
        name = LEGAL_SUFFIXES.sub("", name).strip(" ,")
    return name or None


def title_function(title: str | None) -> tuple[str | None, str | None]:
    """Job title -> (function, seniority), e.g. ``Ekonomichef`` -> (``CFO``, ``executive``)."""
    if not title or not title.strip():
        return None, None
    for pattern, function, seniority in _COMPILED_RULES:
        if pattern.search(title):
            if seniority == "staff" and _MANAGER.search(title):
                return function, "manager"
            return function, seniority
    return None, "manager" if _MANAGER.search(title) else None


def industry(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    key = " ".join(value.lower().split())
    return INDUSTRY_SYNONYMS.get(key, key)


def city(value: str | None) -> str | None:
    """Whitespace folded, title case per word: ``  STOCKHOLM `` -> ``Stockholm``."""
    if not value or not value.strip():
        return None
    return " ".join(word.capitalize() for word in value.split())


@lru_cache(maxsize=65536)  # names and topics recur input after input
def folded(value: str) -> str:
    """Lower case without accents, for comparisons (``Göteborg`` -> ``goteborg``)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()
