"""Use case: finish an escalation left incomplete (its issue exists, a later step was dead-lettered).

Escalating again would create a second Jira issue; resuming revives only the dead steps' jobs
(attachments, the remote link, which is an upsert, the ticket update) and waits for them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from escalink.domain.draft import Problem
from escalink.domain.errors import Conflict, NotFound
from escalink.services.escalate import EscalationResult, EscalationService
from escalink.services.escalation_jobs import FOLLOW_UPS


def resume_escalation(service: EscalationService, escalation_id: str) -> EscalationResult:
    rec = service.store.get_escalation(escalation_id)
    if rec is None:
        raise NotFound(f"No escalation {escalation_id}.")
    if rec.state != "incomplete" or not rec.jira_issue_id or not rec.jira_key:
        raise Conflict(f"Escalation {escalation_id} is {rec.state}: there is nothing to resume.",
                       problems=[Problem("escalation_id", "not_incomplete", f"State is {rec.state}.")])
    dead = [j.id for j in service.store.jobs(escalation_id=escalation_id, state="dead", limit=1000)
            if j.kind in FOLLOW_UPS]
    service.store.finish_escalation(rec.id, state="created", error_code=None)
    service.store.revive(dead, now=datetime.now(UTC))
    service.dispatcher.dispatch(dead)
    return service.result_of(rec.id)
