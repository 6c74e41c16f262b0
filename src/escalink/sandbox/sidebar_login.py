"""The sandbox's stand-in for Zendesk's sign-in: its own key pair, and tokens for the seeded agents.

The key pair is made at every start and the private half stays in this process: Escalink gets the public
key through its ordinary settings (as it gets Zendesk's app key) and the signer through
`escalink.web.ui.auth.enable_sandbox_login`, so the verification path is the one Zendesk's tokens take.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from escalink.sandbox.seed import Seed
from escalink.web.ui.auth import SandboxAgent
from escalink.web.ui.zaf_token import ALGORITHM

TOKEN_SECONDS = 300  # what Zendesk gives its tokens: about five minutes


class TokenSigner:
    """Signs sidebar tokens with the claims Zendesk's carry (see escalink.web.ui.zaf_token)."""

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, *, user_id: int, email: str, name: str, group_ids: Sequence[int] = ()) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.audience, "iat": now, "nbf": now, "exp": now + TOKEN_SECONDS,
            "sub": str(user_id), "context": {"product": "support", "location": "ticket_sidebar"},
            # Zendesk's tokens name the user only; the sandbox adds what its agents' sessions show.
            "email": email, "name": name, "group_ids": list(group_ids),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class SeedSignIn:
    """Signs in the agent of a ticket's sample draft, or the seeded agent named by ?as=."""

    def __init__(self, seed: Seed, signer: TokenSigner) -> None:
        self._signer = signer
        people = seed.data["zendesk"]["agents"]
        self._agents = {str(a["email"]).lower(): (int(a["id"]), str(a["name"])) for a in people}
        self._first = str(people[0]["email"]).lower()
        self._ticket_agents = {d.ticket_id: d.agent_email.lower() for d in seed.drafts()}

    def sign_in(self, ticket_id: int, as_email: str | None) -> SandboxAgent | None:
        # A ticket without a sample draft (one created later in the emulator) opens as the first agent.
        email = (as_email or self._ticket_agents.get(ticket_id) or self._first).strip().lower()
        if email not in self._agents:
            return None
        user_id, name = self._agents[email]
        return SandboxAgent(email=email, name=name, token=self._signer.sign(user_id=user_id, email=email, name=name))

    def agent_emails(self) -> list[str]:
        return list(self._agents)

    def agent_of(self, ticket_id: int) -> str:
        return self._ticket_agents.get(ticket_id, self._first)
