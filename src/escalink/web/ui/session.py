"""The sidebar's own session: a signed, expiring cookie that says who the agent is.

Zendesk proves the agent's identity once, with the JWT it posts to the app's first page
(see `auth.py`); from then on the iframe carries this cookie. It is signed with HMAC-SHA256
under `ESCALINK_UI_SESSION_SECRET` (shared by every process), holds no PHI, and carries the
CSRF token that every state-changing request must echo in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from escalink.services.roles import Caller, Identity, RoleMap

COOKIE = "escalink_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class UiSession:
    """Who is using the sidebar, as proven by Zendesk (or the sandbox's own signer)."""

    email: str
    user_id: int | None
    group_ids: tuple[int, ...]
    expires: int  # unix seconds
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    name: str = ""

    def identity(self) -> Identity:
        return Identity(self.email.lower(), self.user_id, self.group_ids)

    def caller(self, roles: RoleMap) -> Caller:
        """The agent's role is decided from the settings' mapping on every request, never stored."""
        return roles.resolve(self.identity())


class SessionCodec:
    """Encode and check session cookies; a cookie that is forged, altered or expired reads as None."""

    def __init__(self, secret: bytes, lifetime_seconds: float) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._key = hashlib.sha256(b"escalink-ui-session\0" + secret).digest()
        self.lifetime = lifetime_seconds

    def new(self, email: str, user_id: int | None, group_ids: tuple[int, ...], name: str = "") -> UiSession:
        return UiSession(email=email, user_id=user_id, group_ids=group_ids,
                         expires=int(time.time() + self.lifetime), name=name)

    def encode(self, session: UiSession) -> str:
        payload = json.dumps(asdict(session), separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return (body + b"." + self._sign(body)).decode()

    def decode(self, cookie: str | None, now: float | None = None) -> UiSession | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, sig = cookie.encode().split(b".")
        if not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            raw = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
            session = UiSession(
                email=str(raw["email"]), user_id=None if raw["user_id"] is None else int(raw["user_id"]),
                group_ids=tuple(int(g) for g in raw["group_ids"]), expires=int(raw["expires"]),
                csrf=str(raw["csrf"]), name=str(raw.get("name", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (time.time() if now is None else now) else None

    def _sign(self, body: bytes) -> bytes:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).rstrip(b"=")
