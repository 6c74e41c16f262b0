"""Who may do what: agent, tier2 and admin roles from the settings' mapping.

The caller is identified by what the sidebar sends today (e-mail, Zendesk user id, group
ids). A signed sidebar session will supply the same three facts later; only the code that
builds `Identity` changes then, never `resolve_role`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from escalink.domain.draft import Problem
from escalink.domain.errors import EscalinkError

ROLE_NAMES = ("agent", "tier2", "admin")


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    AGENT = 0
    TIER2 = 1
    ADMIN = 2

    @property
    def label(self) -> str:
        return ROLE_NAMES[self.value]


class NotAllowed(EscalinkError):
    """The caller's role does not allow this action."""

    status = 403
    title = "Your role does not allow this"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling, as far as Zendesk knows them."""

    email: str
    user_id: int | None = None
    group_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    role: Role

    @property
    def email(self) -> str:
        return self.identity.email

    def at_least(self, role: Role) -> bool:
        return self.role >= role


class RoleMap:
    """The settings' `roles` mapping, checked once at start-up.

    Keys are Zendesk user ids ("901"), groups ("group:360001") or e-mails; values are
    agent, tier2 or admin. Anyone not listed is an agent.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        bad = {k: v for k, v in mapping.items() if v.strip().lower() not in ROLE_NAMES}
        if bad:
            raise ValueError(
                f"ESCALINK_ROLES: unknown role(s) {sorted(set(bad.values()))} for {sorted(bad)}; "
                f"use one of {', '.join(ROLE_NAMES)}."
            )
        self._roles = {_key(k): Role(ROLE_NAMES.index(v.strip().lower())) for k, v in mapping.items()}

    def resolve(self, identity: Identity) -> Caller:
        return Caller(identity, resolve_role(self._roles, identity))


def resolve_role(roles: Mapping[str, Role], identity: Identity) -> Role:
    """The highest role any of the caller's facts (user id, groups, e-mail) is mapped to."""
    keys: Iterable[str] = [
        _key(identity.email),
        *([str(identity.user_id)] if identity.user_id is not None else []),
        *(f"group:{g}" for g in identity.group_ids),
    ]
    return max((roles[k] for k in keys if k in roles), default=Role.AGENT)


def require(caller: Caller, role: Role, action: str, field: str) -> None:
    if not caller.at_least(role):
        raise NotAllowed(
            f"{action} is for {role.label} agents; your role is {caller.role.label}.",
            problems=[Problem(field, "role", f"Needs the {role.label} role.")],
        )


def _key(raw: str) -> str:
    # E-mails are matched case-insensitively; ids and "group:<id>" keys are unaffected.
    return raw.strip().lower()
