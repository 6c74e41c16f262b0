"""Use case: finish an escalation left incomplete (its issue exists, a later step failed).

Escalating again would create a second Jira issue; resuming re-runs only the failed steps:
attachments, the remote link (an upsert), the ticket update.
"""

from __future__ import annotations

import os

from escalink.domain.draft import Problem
from escalink.domain.errors import Conflict, NotFound
from escalink.domain.records import CreatedIssue, TicketUpdate
from escalink.services.escalate import EscalationResult, EscalationService
from escalink.services.phi_guard import chosen_attachments


def resume_escalation(service: EscalationService, escalation_id: str) -> EscalationResult:
    rec = service.store.get_escalation(escalation_id)
    if rec is None:
        raise NotFound(f"No escalation {escalation_id}.")
    if rec.state != "incomplete" or not rec.jira_issue_id or not rec.jira_key:
        raise Conflict(f"Escalation {escalation_id} is {rec.state}: there is nothing to resume.",
                       problems=[Problem("escalation_id", "not_incomplete", f"State is {rec.state}.")])
    failed = [s for s in (rec.error_code or "").split(",") if s]
    issue = CreatedIssue(rec.jira_issue_id, rec.jira_key, service.tracker.issue_url(rec.jira_key))
    result = EscalationResult(
        escalation_id=rec.id, ticket_id=rec.ticket_id, issue=issue, issue_type=rec.issue_type,
        request_type=rec.request_type, priority=rec.priority, zendesk_status=None, state="created",
    )
    wanted = [int(s.split(":", 1)[1]) for s in failed if s.startswith("attachment:")]
    if wanted:
        attachments = chosen_attachments(service.helpdesk.list_comments(rec.ticket_id), wanted, rec.ticket_id)
        for att in attachments:
            # The agent's PHI choice for file names is not kept: any flagged name goes out neutral.
            name = att.file_name
            if service.guard.scan(name, "attachment_ids[0]"):
                name = f"attachment-{att.id}{os.path.splitext(name)[1]}"
            result.attachments.append(service._copy_attachment(issue, att, name, result))
    if "remote_link" in failed:
        service._step(result, "remote_link", lambda: service._add_remote_link(issue, rec.ticket_id))
    if "zendesk_update" in failed:
        def update() -> None:
            lines = [f"Escalated to Jira {issue.key} ({rec.issue_type}): {issue.url}"]
            if rec.request_type:
                lines.append(f"Request type: {rec.request_type}")
            if rec.priority:
                lines.append(f"Priority: {rec.priority}")
            if service.options.hold_after_escalation:
                lines.append("The ticket is on hold; it reopens when Jira has an update or response.")
            service.helpdesk.update_ticket(rec.ticket_id, TicketUpdate(
                internal_note="\n".join(lines),
                status="hold" if service.options.hold_after_escalation else None,
                add_tags=service.options.tags,
            ))

        if service._step(result, "zendesk_update", update):
            result.zendesk_status = "hold" if service.options.hold_after_escalation else None
    still = [s.step for s in result.steps if not s.ok]
    result.state = "incomplete" if still else "done"
    service.store.finish_escalation(rec.id, state=result.state, error_code=",".join(still) or None)
    return result
