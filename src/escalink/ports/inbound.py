"""Ports of the inbound sync: what it needs from the store, Zendesk and Jira beyond the shared ports."""

from __future__ import annotations

from typing import Protocol

from escalink.domain.records import TicketUpdate
from escalink.ports.store import LinkRecord
from escalink.ports.sync_store import InboundStore, LinkStore


class SyncStore(InboundStore, LinkStore, Protocol):
    """Inbound events and links, plus the links of a ticket."""

    def links_for_ticket(self, ticket_id: int) -> list[LinkRecord]: ...


class TicketStatus(Protocol):
    """A ticket as far as the sync reads it: its status, as the REST API spells it."""

    @property
    def status(self) -> str: ...


class SyncHelpdesk(Protocol):
    """Zendesk as the sync needs it: read a ticket's status, apply one update. Raises domain errors."""

    def get_ticket(self, ticket_id: int) -> TicketStatus: ...

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None: ...


class SyncTracker(Protocol):
    """Jira as the sync needs it: Escalink's own account, and issue addresses. Raises domain errors."""

    def own_account(self) -> str: ...

    def issue_url(self, key: str) -> str: ...
