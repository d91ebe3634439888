"""Signed session cookies and CSRF tokens (stdlib HMAC-SHA256; no server-side session store).

A session cookie holds ``{"sid", "u", "exp"}`` as base64url JSON plus an HMAC of it, so any
worker with the key can check it and the web tier stays stateless. Anonymous visitors get a
session too (without ``u``) so the login form carries a CSRF token. Logging in issues a fresh
``sid`` (no session fixation). The CSRF token is an HMAC of the ``sid`` under a separate key, so
it needs no storage and is checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE_NAME = "rehabill_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class Session:
    """What a session cookie carries: an id, the username (None when anonymous), expiry."""

    sid: str
    username: str | None
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Issues, signs, reads and checks sessions and their CSRF tokens."""

    def __init__(self, secret: str, lifetime_seconds: int) -> None:
        root = secret.encode("utf-8")
        self._sign_key = hmac.new(root, b"rehabill session v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(root, b"rehabill csrf v1", hashlib.sha256).digest()
        self.lifetime = lifetime_seconds

    def new(self, username: str | None, now: float | None = None) -> Session:
        """A fresh session (new id) for ``username`` or an anonymous visitor."""
        moment = time.time() if now is None else now
        return Session(secrets.token_urlsafe(18), username, int(moment) + self.lifetime)

    def renew(self, session: Session, now: float | None = None) -> Session:
        """The same session with its expiry pushed out (sliding expiry)."""
        moment = time.time() if now is None else now
        return Session(session.sid, session.username, int(moment) + self.lifetime)

    def encode(self, session: Session) -> str:
        """The cookie value: payload and signature."""
        payload = _b64(json.dumps({"sid": session.sid, "u": session.username,
                                   "exp": session.expires}, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def decode(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None when missing, forged, malformed or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["sid"]), data["u"], int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        moment = time.time() if now is None else now
        if session.expires < moment or not isinstance(session.username, str | None):
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        """The CSRF token bound to this session."""
        return _b64(hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).digest())

    def is_valid_csrf(self, session: Session | None, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token."""
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._sign_key, payload.encode("ascii"), hashlib.sha256).digest())
