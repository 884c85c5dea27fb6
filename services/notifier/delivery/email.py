"""E-mail digests: text and HTML, one-click links (accept, dismiss, snooze), sent over SMTP.

Every user-provided string is escaped in the HTML part.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from typing import Any
from urllib.parse import urlencode

from services.notifier.settings import NotifierSettings
from shared.signing import link_token

ACTIONS = (("accepted", "I'll do it"), ("dismissed", "Not for me"), ("snoozed", "Later"))


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 15.0


def smtp_config(settings: NotifierSettings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host or "",
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )


LINK_DAYS = 14
"""How long a feedback link in a digest works."""


def feedback_link(
    base_url: str,
    secret: str,
    owner_id: str,
    suggestion_id: str,
    action: str,
    *,
    expires: int | None = None,
) -> str:
    """A signed link that answers one suggestion, until ``expires`` (unix seconds)."""
    expires = expires if expires is not None else int(time.time()) + LINK_DAYS * 86_400
    token = link_token(secret, owner_id, suggestion_id, action, str(expires))
    query = urlencode({"o": owner_id, "s": suggestion_id, "a": action, "e": expires, "t": token})
    return f"{base_url.rstrip('/')}/feedback?{query}"


def render_digest(
    owner_id: str, suggestions: list[dict[str, Any]], *, base_url: str, secret: str | None
) -> tuple[str, str, str]:
    """(subject, text, html) of a digest of ``suggestions`` (SuggestionMade as JSON)."""
    count = len(suggestions)
    subject = f"Springboard: {count} suggestion{'s' if count != 1 else ''} for your network"
    text_parts = [subject, ""]
    html_parts = [f"<h1>{escape(subject)}</h1>"]
    for number, item in enumerate(suggestions, start=1):
        links = (
            {
                action: feedback_link(base_url, secret, owner_id, item["suggestion_id"], action)
                for action, _ in ACTIONS
            }
            if secret
            else {}
        )
        text_parts.append(f"{number}. {item['headline']}")
        text_parts += [f"   - {reason}" for reason in item["reasons"]]
        text_parts += [f"   {label}: {links[action]}" for action, label in ACTIONS if links]
        text_parts.append("")
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in item["reasons"])
        buttons = " · ".join(
            f'<a href="{escape(links[action])}">{escape(label)}</a>'
            for action, label in ACTIONS
            if links
        )
        html_parts.append(
            f"<h2>{number}. {escape(item['headline'])}</h2><ul>{reasons}</ul><p>{buttons}</p>"
        )
    return subject, "\n".join(text_parts), "<html><body>" + "".join(html_parts) + "</body></html>"


def send(config: SmtpConfig, to: str, subject: str, text: str, html: str, message_id: str) -> None:
    """Send one digest (blocking; run it in a thread). Raises on any SMTP failure."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{message_id}@springboard>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.username and config.password:
            smtp.login(config.username, config.password)
        smtp.send_message(message)
