"""Which e-mail addresses belong to a person, and which to a room, a list, a mailbox or a
machine. Calendars and CRMs are full of the latter; none of them is someone to meet.
"""

from __future__ import annotations

import re

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
