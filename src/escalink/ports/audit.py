"""The audit log port: an append-only record of every action Escalink takes or refuses.

An entry says who did what, when, to which ticket and issue, how many PHI findings of each
label were involved and a hash of the texts involved. It never holds a text: the hash lets
an auditor match an entry to a text they hold, and `detail_code` is a short code, not prose.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

OUTCOMES = ("ok", "refused", "failed")
# Codes only: words joined by _ . : , = - (an exception class name, a step name, a state).
_CODE = re.compile(r"[A-Za-z0-9_.:,=\-]{1,64}")
SYSTEM_ACTOR = "escalink"
ZENDESK_WEBHOOK_ACTOR = "zendesk:webhook"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action. `actor` is an agent's e-mail, "jira:<account>", "zendesk:webhook" or "escalink".

    `action` is a dotted name (escalation.created, notify.sent, inbound.ignored, ...).
    `seq` is the entry's position in the log: None until the store has it, set when read back.
    """

    actor: str
    action: str
    outcome: str = "ok"
    ticket_id: int | None = None
    issue_id: str | None = None
    issue_key: str | None = None
    phi_findings: Mapping[str, int] = field(default_factory=dict)
    content_hash: str | None = None
    detail_code: str | None = None
    at: datetime = field(default_factory=_now)
    seq: int | None = None

    def __post_init__(self) -> None:
        # Refuse anything that could smuggle free text into the log; callers pass codes they own.
        if self.outcome not in OUTCOMES:
            raise ValueError(f"audit outcome must be one of {OUTCOMES}")
        if not _CODE.fullmatch(self.action):
            raise ValueError("audit action must be a short code")
        if self.detail_code is not None and not _CODE.fullmatch(self.detail_code):
            raise ValueError("audit detail_code must be a short code (letters, digits, _ . : , = -), 64 at most")
        if self.content_hash is not None and not re.fullmatch(r"[0-9a-f]{64}", self.content_hash):
            raise ValueError("audit content_hash must be a hex sha256")
        if self.at.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        object.__setattr__(self, "phi_findings", {str(k): int(v) for k, v in self.phi_findings.items()})

    def as_json(self) -> dict[str, Any]:
        """The entry as plain JSON values, the timestamp in ISO 8601 (UTC)."""
        return {
            "seq": self.seq,
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "ticket_id": self.ticket_id,
            "issue_id": self.issue_id,
            "issue_key": self.issue_key,
            "phi_findings": dict(self.phi_findings),
            "content_hash": self.content_hash,
            "detail_code": self.detail_code,
        }


class AuditLog(Protocol):
    """Where audit entries go. Append-only: there is no way to change or remove an entry."""

    def record(self, entry: AuditEntry) -> None:
        """Append one entry (its own transaction)."""
        ...

    def entries(
        self, since: datetime, until: datetime | None = None, limit: int = 1000, after_seq: int | None = None
    ) -> list[AuditEntry]:
        """Entries with since <= at < until, in log order; `after_seq` pages on from an entry read before."""
        ...


class NullAuditLog:
    """Keeps nothing: the default for services built without an audit log (unit tests, tools)."""

    def record(self, entry: AuditEntry) -> None:
        return None

    def entries(
        self, since: datetime, until: datetime | None = None, limit: int = 1000, after_seq: int | None = None
    ) -> list[AuditEntry]:
        return []


def label_counts(findings: Iterable[Any]) -> dict[str, int]:
    """How many findings of each label (anything with a `label`): what the log keeps of a PHI verdict."""
    return dict(sorted(Counter(str(f.label) for f in findings).items()))


def jira_actor(account: str | None) -> str:
    return f"jira:{account or 'unknown'}"


def short_code(codes: Iterable[str]) -> str | None:
    """Distinct codes joined by "," (sorted, 64 characters at most), fit for `detail_code`."""
    joined = ",".join(sorted({re.sub(r"[^A-Za-z0-9_.:=\-]", "_", c) for c in codes if c}))[:64].strip(",")
    return joined or None
