"""Who is looking at the owner's page: sign-in links, sessions and CSRF tokens.

A sign-in link carries a token signed with the link secret (itsdangerous): the owner, a
nonce, and when it was made. It works for ``sign_in_minutes`` and once (its digest is
remembered like a used feedback link). It becomes a session: a signed, HttpOnly,
SameSite=Lax cookie (Secure on HTTPS) holding the owner and a CSRF nonce, good for
``session_hours``. Every form and fetch sends the nonce back; the owner of every read and
write is the session's, never one named in a URL or a form. Changing the link secret ends
every session and link at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SIGN_IN_SALT = "springboard.page.sign-in"
SESSION_SALT = "springboard.page.session"
COOKIE = "springboard_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    owner_id: str
    csrf: str

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(
            (given or "").encode("utf-8", "surrogateescape"), self.csrf.encode()
        )


class SignInRefused(ValueError):
    """A sign-in token that is forged, expired or already used; the message says which."""


class Sessions:
    def __init__(self, secret: str, *, sign_in_seconds: int, session_seconds: int) -> None:
        self._sign_in = URLSafeTimedSerializer(secret, salt=SIGN_IN_SALT)
        self._session = URLSafeTimedSerializer(secret, salt=SESSION_SALT)
        self.sign_in_seconds = sign_in_seconds
        self.session_seconds = session_seconds

    def sign_in_token(self, owner_id: str) -> str:
        return self._sign_in.dumps({"o": owner_id, "n": secrets.token_urlsafe(12)})

    def sign_in_link(self, public_url: str, owner_id: str) -> str:
        query = urlencode({"t": self.sign_in_token(owner_id)})
        return f"{public_url.rstrip('/')}/me/sign-in?{query}"

    def owner_of_sign_in(self, token: str) -> str:
        try:
            data = self._sign_in.loads(token, max_age=self.sign_in_seconds)
        except SignatureExpired:
            raise SignInRefused("This sign-in link has expired; ask for a new one.") from None
        except BadSignature:
            raise SignInRefused("This sign-in link is not valid.") from None
        owner = data.get("o") if isinstance(data, dict) else None
        if not isinstance(owner, str) or not owner:
            raise SignInRefused("This sign-in link is not valid.")
        return owner

    def start(self, owner_id: str) -> str:
        """The cookie value of a new session."""
        return self._session.dumps({"o": owner_id, "c": secrets.token_urlsafe(24)})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=self.session_seconds)
        except BadSignature:  # forged, made with an old secret, or expired
            return None
        if not isinstance(data, dict) or not data.get("o") or not data.get("c"):
            return None
        return Session(owner_id=str(data["o"]), csrf=str(data["c"]))


def token_digest(token: str) -> str:
    """How a used sign-in token is remembered (never the token itself)."""
    return "sign-in:" + hashlib.sha256(token.encode()).hexdigest()
