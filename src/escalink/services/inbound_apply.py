"""The write step of the inbound sync: ONE Zendesk update per ticket for everything a batch planned.

`TicketWork` is what the planning step (services.inbound) gathered for one ticket; `apply_ticket`
turns it into one internal note (and the status back to `open` when the policy says so), unless
Zendesk already holds it: a note taken just before a process stopped is not written again. The
note's last lines name the Jira comments and changes it carries and the stored webhook events
it answers (see sync_policy.refs_line / events_line). Note texts are never logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from escalink.domain.errors import EscalinkError, NotFound, VendorRejected
from escalink.domain.records import TicketUpdate
from escalink.policy.sync import SyncPolicy
from escalink.ports.audit import SYSTEM_ACTOR, AuditEntry, AuditLog, short_code
from escalink.ports.inbound import SyncHelpdesk, SyncStore
from escalink.services.phi_guard import content_hash
from escalink.services.sync_policy import (
    IssueSection,
    Ref,
    events_line,
    noted_events,
    noted_refs,
    refs_line,
    render_note,
)

log = structlog.get_logger(__name__)

# Outcome of one ticket update: ("updated" | "nothing" | "retry" | "failed", code)
Outcome = tuple[str, str]


# A resumed write waiting out its predecessor's: a pause, not a failed attempt.
WAIT_FOR_EARLIER_WRITE = "earlier_write_may_land"


@dataclass(slots=True)
class TicketWork:
    """Everything one batch brings to one ticket.

    `refs` maps each Jira comment or change the note carries (see sync_policy.refs_of) to the
    paragraphs it became; `seen` holds every ref met in this batch, noted here or before.
    """

    issues: dict[str, IssueSection] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    reopen: bool = False
    record_ids: list[int] = field(default_factory=list)
    seen: set[Ref] = field(default_factory=set)
    refs: dict[Ref, tuple[str, ...]] = field(default_factory=dict)
    resumed: bool = False  # a record of this ticket was being written when a process stopped
    last_started: datetime | None = None  # when that write was last tried


def apply_ticket(
    ticket_id: int, work: TicketWork, *, helpdesk: SyncHelpdesk, store: SyncStore, sync: SyncPolicy,
    audit: AuditLog, now: datetime | None = None, write_window: timedelta = timedelta(seconds=20),
) -> Outcome:
    """Write the ticket's one update; what happened, as an Outcome (nothing is raised for Zendesk's answers).

    `write_window`: how long a write sent by a process that then stopped may still land in Zendesk
    (its request was on the wire; Zendesk finishes it anyway). A resumed write waits that long after
    the last try before it reads the ticket's notes to see whether that try landed."""
    last = work.last_started
    if work.resumed and last is not None and (now or datetime.now(UTC)) - last < write_window:
        return "retry", WAIT_FOR_EARLIER_WRITE
    sections = [s for s in work.issues.values() if s.paragraphs]
    if not sections and not work.extra:
        return "nothing", "duplicate"
    try:
        status = helpdesk.get_ticket(ticket_id).status
    except NotFound:
        return "nothing", "ticket_not_found"
    except VendorRejected:
        return "failed", "zendesk_rejected"
    except EscalinkError as exc:  # unavailable, credentials, permissions: worth another try
        return "retry", f"zendesk_{type(exc).__name__}"
    if status == "closed":
        # Zendesk refuses every change to a closed ticket: done, with nothing to do.
        return "nothing", "ticket_closed"
    new_status: str | None = None
    footer: str | None = None
    if work.reopen and status in sync.never_reopen:
        footer = f"The ticket stays {status}: Escalink does not reopen {status} tickets."
    elif work.reopen and status != "open":
        new_status = "open"
        footer = "Escalink reopened this ticket because of the Jira update."
    if work.resumed:
        # A note may have reached Zendesk just before a process stopped: what it holds is not repeated.
        bodies = [c.body for c in helpdesk.list_comments(ticket_id)]
        if set(work.record_ids) <= noted_events(bodies):
            store.mark_noted(ticket_id, list(work.refs))
            return "nothing", "duplicate"
        there = noted_refs(bodies)
        done = [k for k in work.refs if k in there]
        if done:
            store.mark_noted(ticket_id, done)
            gone = Counter(p for k in done for p in work.refs.pop(k))
            for section in sections:
                kept = []
                for paragraph in section.paragraphs:
                    if gone[paragraph] > 0:
                        gone[paragraph] -= 1
                    else:
                        kept.append(paragraph)
                section.paragraphs = kept
            sections = [s for s in sections if s.paragraphs]
            if not sections and not work.extra:
                return "nothing", "duplicate"
    note = render_note(sections, work.extra, footer)
    note += "\n\n" + (refs_line(work.refs) + "\n" if work.refs else "") + events_line(work.record_ids)
    store.mark_inbound_started(work.record_ids)
    try:
        helpdesk.update_ticket(ticket_id, TicketUpdate(internal_note=note, status=new_status))
    except NotFound:
        return "nothing", "ticket_not_found"
    except VendorRejected as exc:
        if any("closed" in p.message.lower() for p in exc.problems):
            return "nothing", "ticket_closed"  # closed since it was read
        return "failed", "zendesk_rejected"
    except EscalinkError as exc:
        return "retry", f"zendesk_{type(exc).__name__}"
    store.mark_noted(ticket_id, list(work.refs))
    kept_status = work.reopen and new_status is None and status != "open"
    audit.record(AuditEntry(
        actor=SYSTEM_ACTOR, action="ticket.reopened" if new_status == "open" else "ticket.noted",
        ticket_id=ticket_id, issue_id=next(iter(work.issues)) if len(work.issues) == 1 else None,
        issue_key=sections[0].key if len(sections) == 1 else None, content_hash=content_hash([note]),
        detail_code=short_code([f"kept_{status}" if kept_status else ""]),
    ))
    log.info("inbound.ticket_updated", ticket=ticket_id, events=len(work.record_ids), status=new_status)
    return "updated", "ok"
