"""Store ports for two-way sync: inbound webhook events, links, notifications and their receipts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from escalink.ports.store import LinkRecord


@dataclass(frozen=True, slots=True)
class InboundRecord:
    id: int
    source: str  # "jira" or "zendesk"
    delivery_id: str
    event_type: str
    issue_id: str | None
    ticket_id: int | None
    payload: bytes | None
    status: str
    attempts: int
    received_at: datetime
    next_try_at: datetime | None = None
    started_at: datetime | None = None  # set when a Zendesk write for it began


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    notification_id: str
    ticket_id: int
    jira_issue_id: str
    jira_key: str
    state: str  # pending, sent, failed, retrying
    attempts: int
    error: str | None
    jira_comment_id: str | None
    details: tuple[dict[str, object], ...]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: str
    ticket_id: int
    agent_email: str
    body: str
    attachment_ids: tuple[int, ...]
    target_issue_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    id: int
    ticket_id: int
    requested_by: str
    target_issue_id: str
    body: str
    attachment_ids: tuple[int, ...]
    status: str
    done_by: str | None
    notification_id: str | None
    created_at: datetime


class LinkStore(Protocol):
    """Ticket↔issue links beyond the ones escalations create."""

    def add_link(self, ticket_id: int, issue_id: str, key: str, escalation_id: str | None = None) -> bool:
        """True if the link is new, False if it already existed."""
        ...

    def remove_link(self, ticket_id: int, issue_id: str) -> bool: ...

    def links_for_issue(self, issue_id: str) -> list[LinkRecord]: ...

    def update_issue_key(self, issue_id: str, key: str) -> int:
        """An issue moved (its key changed, its id did not): rewrite the key on every link."""
        ...

    def move_links(self, from_ticket: int, to_ticket: int) -> list[LinkRecord]:
        """A ticket was merged into another: its links now belong to the surviving ticket."""
        ...


class InboundStore(Protocol):
    """Webhook deliveries: stored before they are acknowledged, processed afterwards."""

    def record_inbound(
        self, *, source: str, delivery_id: str, event_type: str, issue_id: str | None, ticket_id: int | None,
        payload: bytes,
    ) -> bool:
        """Store a delivery; False when this (source, delivery_id) was already stored (a replay)."""
        ...

    def pending_inbound(
        self, *, received_before: datetime, due_at: datetime | None = None, limit: int = 500
    ) -> list[InboundRecord]:
        """Pending deliveries received before the given time, oldest first; with `due_at`, only those
        not waiting for a later retry."""
        ...

    def get_inbound(self, inbound_id: int) -> InboundRecord | None: ...

    def retry_inbound(self, inbound_id: int, *, attempts: int, next_try_at: datetime, error: str) -> None:
        """Keep a delivery pending after a failed try, with its count and when to try again (durable)."""
        ...

    def finish_inbound(self, ids: Sequence[int], *, status: str, error: str | None = None) -> None:
        """Mark deliveries processed/ignored/failed and drop their payloads."""
        ...

    def inbound_counts(self) -> dict[str, int]: ...


class NotifyStore(Protocol):
    """Notifications sent to linked issues, their per-issue receipts, and Tier 2 hand-offs."""

    def create_notification(
        self, *, ticket_id: int, agent_email: str, body: str, attachment_ids: Sequence[int],
        target_issue_id: str | None, targets: Sequence[tuple[str, str]],
        details: Sequence[dict[str, object]] = (), with_jobs: bool = False,
    ) -> tuple[str, list[DeliveryRecord]]:
        """One notification and a pending delivery per (issue_id, key) target, with `details` (the file
        plan) on each and, `with_jobs`, the job that delivers each one, all in one transaction."""
        ...

    def get_notification(self, notification_id: str) -> NotificationRecord | None: ...

    def get_delivery(self, delivery_id: int) -> DeliveryRecord | None: ...

    def set_delivery(
        self, delivery_id: int, *, state: str, error: str | None = None, jira_comment_id: str | None = None,
        details: Sequence[dict[str, object]] | None = None, attempted: bool = True,
    ) -> DeliveryRecord: ...

    def deliveries_for_ticket(self, ticket_id: int) -> list[DeliveryRecord]: ...

    def create_handoff(
        self, *, ticket_id: int, requested_by: str, target_issue_id: str, body: str, attachment_ids: Sequence[int]
    ) -> HandoffRecord: ...

    def handoffs(self, *, status: str | None = "pending", ticket_id: int | None = None) -> list[HandoffRecord]: ...

    def close_handoff(
        self, handoff_id: int, *, done_by: str, notification_id: str | None, status: str = "done"
    ) -> None:
        ...
