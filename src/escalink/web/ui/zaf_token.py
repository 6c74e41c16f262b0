"""Check the token Zendesk signs for the sidebar, and read who the agent is from it.

What Zendesk sends (Zendesk Apps Framework, manifest `"signedUrls": true`), and where that is stated:

- The app's first page is requested with POST and a form field `token`: a JWT signed with RS256 under a key
  pair Zendesk keeps per app; the public half is the app's `public_key.pem`
  (`GET /api/v2/apps/{app_id}/public_key.pem`). Source: Zendesk, "Building a server-side app - Part 5:
  Securing the app" (developer.zendesk.com/documentation/apps/build-an-app/building-a-server-side-app/).
- `iss` is the account's host ("acme.zendesk.com"), `aud` the app installation
  ("https://acme.zendesk.com/api/v2/apps/installations/<installation id>.json"): same tutorial, and the
  Zendesk community thread "Zendesk authentication using JWT token" (post 5510233816602).
- The claims are exp, nbf, iat, iss, aud, sub, cnf.jku, qsh and context {product, location}, and the token
  lives about five minutes: Zendesk's "Using the Apps framework", section "JWT claims".
- There is no e-mail, name or group claim: `sub` names the Zendesk user. Its exact form is not shown in the
  material above, so a user id is read from a number, a string of digits, or an address ending in
  `/users/<id>` (`.json` or not). Optional `email`, `name` and `group_ids` claims are used when present
  (the sandbox's signer sets them).

Only RS256 is accepted, whatever the token's header says, and the key must be an RSA public key: a token
signed with HS256 using the public PEM as the shared secret (the classic key-confusion attack) or one with
`alg: none` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from escalink.config import Settings

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30  # clocks of Zendesk and Escalink may differ a little; never more than a minute
MAX_TOKEN_BYTES = 8192
_USER_ID = re.compile(r"(?:^|/users/)(\d{1,20})(?:\.json)?$")


class TokenRefused(Exception):
    """The token cannot be trusted; `reason` is a short code safe to log and to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ZafIdentity:
    """The agent a verified token names."""

    user_id: int | None
    email: str
    name: str
    group_ids: tuple[int, ...]


def load_public_key(value: str) -> RSAPublicKey:
    """An RSA public key from PEM text or from the path of a PEM file; ValueError when it is neither."""
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValueError(f"ESCALINK_ZAF_PUBLIC_KEY: no PEM text and no file at {path}")
        text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = load_pem_public_key(text.encode())
    except ValueError as exc:
        raise ValueError("ESCALINK_ZAF_PUBLIC_KEY: not a PEM public key (expected the app's public_key.pem)") from exc
    if not isinstance(key, RSAPublicKey):
        raise ValueError("ESCALINK_ZAF_PUBLIC_KEY: Zendesk signs with RS256, so the key must be an RSA key")
    return key


def expected_issuer(settings: Settings) -> str:
    """The configured issuer, else the host of the Zendesk URL ("acme.zendesk.com")."""
    if settings.zaf_issuer.strip():
        return settings.zaf_issuer.strip()
    return urlsplit(settings.zendesk_url).netloc


class ZafVerifier:
    """Verifies tokens against one public key, issuer and audience."""

    def __init__(self, key: RSAPublicKey, issuer: str, audience: str) -> None:
        if not issuer or not audience:
            raise ValueError("a token verifier needs both the issuer and the audience it expects")
        self._key = key
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def from_settings(cls, settings: Settings) -> ZafVerifier | None:
        """None while the key or the audience is not configured (every sign-in is then refused)."""
        issuer = expected_issuer(settings)
        if not settings.zaf_public_key.strip() or not settings.zaf_audience.strip() or not issuer:
            return None
        return cls(load_public_key(settings.zaf_public_key), issuer, settings.zaf_audience.strip())

    def verify(self, token: str) -> ZafIdentity:
        """The agent the token names; TokenRefused with a reason code for anything else."""
        if not token:
            raise TokenRefused("missing")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenRefused("too_long")
        try:
            # Checked before decoding too, so the refusal names the algorithm rather than the signature.
            if jwt.get_unverified_header(token).get("alg") != ALGORITHM:
                raise TokenRefused("wrong_algorithm")
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRefused("expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRefused("not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRefused("wrong_audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRefused("wrong_issuer") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenRefused("wrong_algorithm") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRefused("bad_signature") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused("missing_claim") from exc
        except jwt.InvalidTokenError as exc:  # DecodeError and the rest: not a well-formed token
            raise TokenRefused("malformed") from exc
        return identity_from_claims(claims)


def identity_from_claims(claims: dict[str, Any]) -> ZafIdentity:
    """The agent named by verified claims; TokenRefused("no_user") when they name nobody."""
    user_id = _user_id(claims.get("sub"))
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else ""
    if user_id is None and not email:
        raise TokenRefused("no_user")
    name = claims.get("name")
    groups = claims.get("group_ids")
    group_ids = tuple(g for g in groups if isinstance(g, int) and not isinstance(g, bool)) \
        if isinstance(groups, list) else ()
    return ZafIdentity(user_id, email, name.strip()[:200] if isinstance(name, str) else "", group_ids)


def _user_id(sub: object) -> int | None:
    if isinstance(sub, int) and not isinstance(sub, bool):
        return sub if sub > 0 else None
    if isinstance(sub, str):
        match = _USER_ID.search(sub.strip())
        if match:
            return int(match.group(1)) or None
    return None
