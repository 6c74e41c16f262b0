"""The store port: escalations and ticket↔issue links, kept in Escalink's database.

Nothing free-text is stored here: only ids, keys, the policy's choices and error
codes, so no PHI can end up in the database through this port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from escalink.ports.jobs import NewJob


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    id: str
    ticket_id: int
    agent_email: str
    issue_type: str
    area: str | None
    request_type: str | None
    priority: str | None
    state: str
    jira_issue_id: str | None
    jira_key: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LinkRecord:
    ticket_id: int
    jira_issue_id: str
    jira_key: str
    escalation_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PhiDecisionRecord:
    ticket_id: int
    escalation_id: str | None
    agent_email: str
    action: str
    reason: str | None
    findings: tuple[dict[str, object], ...]  # field, label, start, end, recognizer, score
    content_hash: str


class Store(Protocol):
    """Durable state. Each method is one transaction."""

    def start_escalation(
        self,
        *,
        ticket_id: int,
        agent_email: str,
        issue_type: str,
        area: str | None,
        request_type: str | None,
        priority: str | None,
        idempotency_key: str | None = None,
        jobs: Sequence[NewJob] = (),
        escalation_id: str | None = None,
    ) -> str:
        """Record an escalation (state `queued` with its jobs, in one transaction; `creating` without);
        returns its id. With an `idempotency_key` already used, returns that escalation's id instead."""
        ...

    def escalation_by_key(self, idempotency_key: str) -> EscalationRecord | None: ...

    def record_issue_created(
        self, escalation_id: str, *, issue_id: str, key: str, job: tuple[int, str] | None = None,
        follow_up: Sequence[NewJob] = (),
    ) -> None:
        """Store the created issue and the ticket↔issue link together; with `job` (id, worker), complete
        that job and add its follow-up jobs in the same transaction."""
        ...

    def finish_escalation(self, escalation_id: str, *, state: str, error_code: str | None = None) -> None:
        """Move an escalation to a final state (`done`, `incomplete`, `failed`)."""
        ...

    def get_escalation(self, escalation_id: str) -> EscalationRecord | None: ...

    def escalations_for_ticket(self, ticket_id: int) -> list[EscalationRecord]: ...

    def record_phi_decision(self, decision: PhiDecisionRecord) -> None:
        """Keep what was decided about PHI found in outbound text (never the text)."""
        ...

    def phi_decisions(self, ticket_id: int) -> list[PhiDecisionRecord]: ...

    def links_for_ticket(self, ticket_id: int) -> list[LinkRecord]: ...
