"""E-mail addresses as pydantic's ``EmailStr`` validates them, remembered.

A calendar names the same attendees in meeting after meeting; validating an address
(email-validator, with IDNA) costs more than everything else in decoding a message, and
the answer for a given string never changes.
"""

from __future__ import annotations

import functools

from pydantic import networks


@functools.lru_cache(maxsize=100_000)
def _validated(value: str) -> str:
    return networks.validate_email(value)[1]


class EmailStr(networks.EmailStr):
    """``pydantic.EmailStr`` (same checks, errors and JSON schema), with a cache."""

    @classmethod
    def _validate(cls, input_value: str, /) -> str:
        return _validated(input_value)
