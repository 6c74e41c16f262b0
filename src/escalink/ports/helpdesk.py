"""The helpdesk port (Zendesk)."""

from __future__ import annotations

from typing import Protocol

from escalink.domain.records import AgentProfile, Comment, TicketUpdate


class TicketStatus(Protocol):
    """A ticket as far as Escalink reads it: its status, as the REST API spells it."""

    @property
    def status(self) -> str: ...


class Helpdesk(Protocol):
    """Reads tickets and writes internal notes. Implementations raise domain errors only."""

    def get_ticket(self, ticket_id: int) -> TicketStatus:
        """The ticket's status; NotFound when the ticket does not exist."""
        ...

    def list_comments(self, ticket_id: int) -> list[Comment]:
        """All comments of a ticket, oldest first, inline images listed as attachments.

        Raises NotFound when the ticket does not exist.
        """
        ...

    def download_attachment(self, content_url: str) -> bytes:
        """The bytes of an attachment, from its `content_url`."""
        ...

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None:
        """Apply note, status, tags and custom fields in a single request."""
        ...

    def ticket_url(self, ticket_id: int) -> str:
        """The agent-facing address of the ticket."""
        ...


class AgentDirectory(Protocol):
    """Who an agent is: the token Zendesk signs for the sidebar names only the user."""

    def get_agent(self, user_id: int) -> AgentProfile:
        """E-mail, name and group ids of the user; NotFound when there is no such user."""
        ...
