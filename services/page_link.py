"""``springboard open``: a sign-in link to the owner's page, printed or e-mailed.

The link is signed with the link secret (``SPRINGBOARD_LINK_SECRET``, or the key file the
embedded default keeps in the data directory), works for a short time and once, and
points at the notifier's public address. Exit codes: 0 the link was printed or sent, 1 it
could not be sent (no address, no SMTP server, the server refused), 2 a bad argument.
"""

from __future__ import annotations

import smtplib
import uuid
from html import escape
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from services.notifier.delivery import email
from services.notifier.page.sessions import Sessions
from services.notifier.settings import NotifierSettings
from services.owner_commands import BAD_ARGUMENTS, FAILED, OK, BadArgument, owner_id
from services.terminal import console
from shared.keys import KeyUnavailable, link_secret


def sign_in_link(settings: NotifierSettings, owner: str) -> str:
    sessions = Sessions(
        link_secret(settings),
        sign_in_seconds=settings.sign_in_minutes * 60,
        session_seconds=settings.session_hours * 3600,
    )
    return sessions.sign_in_link(settings.public_url, owner)


def owner_address(settings: NotifierSettings, owner: str) -> str | None:
    """Where the owner's digests go, else the first of their own addresses."""
    from services.notifier import store
    from services.notifier.models import TABLES
    from shared import database

    with (
        database.store_of(settings, "notifier", TABLES) as engine,
        database.transaction(engine) as session,
    ):
        prefs = store.preferences(session, owner_id=owner)
        row = store.owner(session, owner_id=owner)
    goals = (row.goals or {}) if row else {}
    return (prefs.email if prefs else None) or next(iter(goals.get("emails", [])), None)


def send_link(settings: NotifierSettings, owner: str, link: str) -> str:
    """E-mail the link to the owner; returns the address, raises ``BadArgument`` or
    ``OSError``/``smtplib.SMTPException`` when it cannot."""
    if not settings.smtp_host:
        raise BadArgument("e-mailing a link needs an SMTP server: set SPRINGBOARD_SMTP_HOST")
    address = owner_address(settings, owner)
    if not address:
        raise BadArgument(
            f"no address for {owner}: set one with `springboard preferences --owner {owner} "
            "--email …` or in their goals"
        )
    minutes = settings.sign_in_minutes
    text = f"Open your Springboard page (the link works once, for {minutes} minutes):\n\n{link}\n"
    html = (
        f"<p>Open your Springboard page (the link works once, for {minutes} minutes):</p>"
        f'<p><a href="{escape(link, quote=True)}">Open my page</a></p>'
    )
    email.send(
        email.smtp_config(settings),
        address,
        "Your Springboard sign-in link",
        text,
        html,
        f"sign-in-{uuid.uuid4()}",
    )
    return address


def main(owner: str, *, by_email: bool, data_dir: Path | None) -> int:
    settings = NotifierSettings()
    if data_dir is not None:
        settings.data_dir = data_dir
    err = console(stderr=True)
    try:
        owner = owner_id(owner)
    except BadArgument as error:
        err.print(str(error), markup=False)
        return BAD_ARGUMENTS
    try:
        link = sign_in_link(settings, owner)
        if not by_email:
            print(link)
            return OK
        address = send_link(settings, owner, link)
    except BadArgument as error:
        err.print(str(error), markup=False)
        return FAILED
    except KeyUnavailable as error:
        err.print(f"no link secret: {error}", markup=False)
        return FAILED
    except SQLAlchemyError as error:
        err.print(f"cannot read the notifier's store: {str(error).splitlines()[0][:200]}")
        return FAILED
    except (OSError, smtplib.SMTPException) as error:
        err.print(f"the link could not be e-mailed: {error}", markup=False)
        return FAILED
    print(f"Sent a sign-in link for {owner} to {address}.")
    return OK
