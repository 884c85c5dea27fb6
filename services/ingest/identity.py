"""Identity keys and stable ids: the same person from any source resolves to one id.

Keys are strongest first: e-mail, phone, profile URL, then the source's own id. Ids are
derived from the owner and the first key ever seen, so a replay produces the same id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

from services.ingest import normalise

NAMESPACE = uuid.UUID("6f1d2b58-2f0e-4b7f-9d4c-0c8d8a3b7e21")
_NAMESPACE_BYTES = NAMESPACE.bytes

Key = tuple[str, str]
"""(kind, value): ("email", "anna@x.example"), ("phone", "+46701234567"), …"""


@lru_cache(maxsize=65536)  # parsing costs ~30 µs; a contact's numbers recur in every upsert
def e164(phone: str, region: str = "SE") -> str | None:
    """``070-123 45 67`` with region SE -> ``+46701234567``; None if it is no phone number."""
    try:
        number = phonenumbers.parse(phone, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def keys_for(
    *,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    profile_url: str | None = None,
    source_id: str | None = None,
    names: Iterable[str] = (),
    region: str = "SE",
) -> list[Key]:
    keys: list[Key] = [("email", normalise.email(e)) for e in emails if e.strip()]
    keys += [("phone", n) for n in (e164(p, region) for p in phones) if n]
    if profile_url:
        keys.append(("profile", profile_url.strip().rstrip("/").lower()))
    if source_id:
        keys.append(("source", source_id))
    # The weakest key: a calendar attendee known by name only (no usable address) is the
    # same person in every meeting of that owner's that names them so.
    keys += [("name", " ".join(normalise.folded(n).split())) for n in names if n.strip()]
    seen: set[Key] = set()
    return [k for k in keys if k[1] and not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]


def stable_id(prefix: str, owner_id: str, *parts: str) -> str:
    """A short deterministic id, unique within the owner: ``p-9c1e…``.

    The first half of ``uuid5(NAMESPACE, "owner|part|…")``, computed from its SHA-1 without
    building a UUID object (ingest makes one or more per input)."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + "|".join((owner_id, *parts)).encode()).digest()[:8]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # the version nibble, as uuid5 sets it
    return f"{prefix}-{digest.hex()}"


def person_id_for(owner_id: str, first_key: Key) -> str:
    return stable_id("p", owner_id, *first_key)
