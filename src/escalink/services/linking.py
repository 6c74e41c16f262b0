"""Use case: link an existing Jira issue to a ticket instead of creating one, and unlink it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from escalink.domain.draft import Problem
from escalink.domain.errors import NotFound
from escalink.domain.records import IssueView, TicketUpdate
from escalink.ports.audit import SYSTEM_ACTOR, AuditEntry, AuditLog, NullAuditLog
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.store import LinkRecord, Store
from escalink.ports.sync_store import LinkStore
from escalink.ports.tracker import Tracker

SEVERAL_ISSUES = (
    "This ticket is now linked to {keys}. Best practice is one Jira issue per Zendesk ticket: comments sent "
    "with Notify go to ALL linked issues."
)


class LinkStores(Store, LinkStore, Protocol):
    """The store ports linking needs (SqlStore implements both)."""


@dataclass(slots=True)
class LinkOutcome:
    link: LinkRecord
    issue: IssueView
    created: bool
    warnings: list[Problem] = field(default_factory=list)


class LinkAdmin:
    """Adds and removes ticket↔issue links; Jira is read once to turn a key into the issue's id."""

    def __init__(
        self, store: LinkStores, tracker: Tracker, helpdesk: Helpdesk, *, linked_issues_field_id: int | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.audit: AuditLog = audit if audit is not None else NullAuditLog()
        self.store = store
        self.tracker = tracker
        self.helpdesk = helpdesk
        self.linked_issues_field_id = linked_issues_field_id

    def link(self, ticket_id: int, issue: str) -> LinkOutcome:
        wanted = issue.strip()
        try:
            view = self.tracker.get_issue(wanted)
        except NotFound as exc:
            raise NotFound(
                f"Jira has no issue {wanted} (or Escalink's account cannot see it); nothing was linked.",
                problems=[Problem("issue", "not_found", f"No Jira issue {wanted}.")],
                vendor=exc.vendor,
            ) from exc
        # Links are kept by issue id: a key changes when the issue moves, its id does not.
        created = self.store.add_link(ticket_id, view.id, view.key)
        links = self.store.links_for_ticket(ticket_id)
        if created:
            # The link API carries no agent identity: the entry names Escalink as the actor.
            self.audit.record(AuditEntry(actor=SYSTEM_ACTOR, action="link.added", ticket_id=ticket_id,
                                         issue_id=view.id, issue_key=view.key))
            self._sync_field(ticket_id, links)
        link = next(lk for lk in links if lk.jira_issue_id == view.id)
        warnings = []
        if len(links) > 1:
            keys = ", ".join(lk.jira_key for lk in links)
            warnings.append(Problem("issue", "several_issues", SEVERAL_ISSUES.format(keys=keys)))
        return LinkOutcome(link, view, created, warnings)

    def unlink(self, ticket_id: int, issue_id_or_key: str) -> LinkRecord:
        wanted = issue_id_or_key.strip().upper()
        links = self.store.links_for_ticket(ticket_id)
        found = next((lk for lk in links if wanted in (lk.jira_issue_id, lk.jira_key.upper())), None)
        if found is None or not self.store.remove_link(ticket_id, found.jira_issue_id):
            raise NotFound(
                f"{issue_id_or_key} is not linked to ticket #{ticket_id}.",
                problems=[Problem("issue", "not_linked", f"{issue_id_or_key} is not linked to this ticket.")],
            )
        self.audit.record(AuditEntry(actor=SYSTEM_ACTOR, action="link.removed", ticket_id=ticket_id,
                                     issue_id=found.jira_issue_id, issue_key=found.jira_key))
        self._sync_field(ticket_id, [lk for lk in links if lk.jira_issue_id != found.jira_issue_id])
        return found

    def _sync_field(self, ticket_id: int, links: list[LinkRecord]) -> None:
        # The optional ticket field listing linked keys must follow links made here too.
        if self.linked_issues_field_id is None:
            return
        keys = ", ".join(lk.jira_key for lk in links)
        self.helpdesk.update_ticket(
            ticket_id, TicketUpdate(internal_note="", custom_fields={self.linked_issues_field_id: keys})
        )
