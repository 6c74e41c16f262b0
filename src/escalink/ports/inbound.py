"""Ports of the inbound sync: what it needs from the store, Zendesk and Jira beyond the shared ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from escalink.domain.records import Comment, TicketUpdate
from escalink.ports.helpdesk import TicketStatus
from escalink.ports.store import LinkRecord
from escalink.ports.sync_store import InboundStore, LinkStore


class SyncStore(InboundStore, LinkStore, Protocol):
    """Inbound events and links, plus the links of a ticket."""

    def links_for_ticket(self, ticket_id: int) -> list[LinkRecord]: ...

    def noted_comments(self, ticket_id: int, keys: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which (issue id, comment id, kind) of `keys` are already in a note on the ticket; a field
        change is (issue id, history id, "changed")."""
        ...

    def mark_noted(self, ticket_id: int, keys: Sequence[tuple[str, str, str]]) -> None:
        """Remember comments and changes now noted on the ticket (a unique constraint keeps each once)."""
        ...

    def mark_inbound_started(self, ids: Sequence[int]) -> None:
        """These deliveries are being written to Zendesk now (the time of this try is kept): if the
        process stops before they are finished, the next run waits out that try, then checks the
        ticket before writing again."""
        ...


class SyncHelpdesk(Protocol):
    """Zendesk as the sync needs it: read a ticket's status, apply one update. Raises domain errors."""

    def get_ticket(self, ticket_id: int) -> TicketStatus: ...

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None: ...

    def list_comments(self, ticket_id: int) -> list[Comment]: ...


class SyncTracker(Protocol):
    """Jira as the sync needs it: Escalink's own account, and issue addresses. Raises domain errors."""

    def own_account(self) -> str: ...

    def issue_url(self, key: str) -> str: ...
