"""The jobs of an escalation: create the issue, then copy attachments, link back, update the ticket.

`escalation.create` carries the issue as it goes to Jira (texts already through the PHI guard)
and the escalation's label. It is never retried blind: a second attempt first searches Jira for
the label, so a create whose answer was lost is found instead of repeated. Once the issue exists,
the link and the follow-up jobs are stored in the same transaction that completes the create.

Follow-ups are separate jobs, so a failing attachment neither blocks the ticket update nor sends
anything twice: each is retried alone and, dead-lettered, shows as a failed step the agent can
resume. The ticket update carries a marker; a retry looks for it on the ticket before writing,
so a crash after Zendesk took the note never makes a second one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from typing import Any, Protocol

import structlog

from escalink.domain.errors import VendorUnavailable
from escalink.domain.records import Attachment, CreatedIssue, IssueSpec, TicketUpdate
from escalink.ports.audit import AuditEntry, AuditLog, short_code
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.jobs import JobRecord, JobStore, NewJob
from escalink.ports.store import Store
from escalink.ports.tracker import Tracker
from escalink.services.jobs import JobResult
from escalink.services.notify_text import address_without_name

log = structlog.get_logger(__name__)

CREATE, ATTACHMENT, REMOTE_LINK, ZENDESK_UPDATE = (
    "escalation.create", "escalation.attachment", "escalation.remote_link", "escalation.zendesk_update")
FOLLOW_UPS = (ATTACHMENT, REMOTE_LINK, ZENDESK_UPDATE)


def escalation_label(escalation_id: str) -> str:
    """The Jira label that ties an issue to the escalation that created it."""
    return f"escalink-{escalation_id.replace('-', '')[:12]}"


def update_marker(escalation_id: str) -> str:
    """Ends the ticket note of an escalation: a retry finds it and does not write the note again."""
    return f"(Escalink ref {escalation_label(escalation_id)})"


def step_name(job: JobRecord) -> str:
    if job.kind == ATTACHMENT:
        return f"attachment:{job.payload.get('attachment', {}).get('id')}"
    return job.kind.removeprefix("escalation.")


def spec_payload(spec: IssueSpec) -> dict[str, Any]:
    return asdict(spec)


def spec_from(payload: dict[str, Any]) -> IssueSpec:
    fields = dict(payload)
    for name in ("member_uuids", "steps_to_reproduce", "labels"):
        fields[name] = tuple(fields.get(name) or ())
    return IssueSpec(**fields)


def attachment_payload(att: Attachment, file_name: str) -> dict[str, Any]:
    """The file as the job keeps it: a name the PHI guard flagged is kept neither as the name nor
    inside its Zendesk address (which repeats it), only the name that goes to Jira."""
    if file_name != att.file_name:
        att = dataclasses.replace(att, file_name=file_name, content_url=address_without_name(att.content_url))
    return {"attachment": asdict(att), "file_name": file_name}


class EscalationStores(Store, JobStore, Protocol):
    """The store ports escalations need (SqlStore implements both)."""


@dataclasses.dataclass(frozen=True, slots=True)
class TicketNote:
    """The ticket side of an escalation: note lines (no PHI), status, tags, the linked-keys field."""

    hold: bool
    tags: tuple[str, ...]
    linked_issues_field_id: int | None
    phi_note_written: bool = False


class EscalationJobs:
    """Handlers for the four escalation job kinds (registered on the runner by bootstrap)."""

    def __init__(self, helpdesk: Helpdesk, tracker: Tracker, store: EscalationStores, audit: AuditLog,
                 remote_link_namespace: str = "escalink") -> None:
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.store = store
        self.audit = audit
        self.namespace = remote_link_namespace

    def kinds(self) -> dict[str, EscalationJobs]:
        return {kind: self for kind in (CREATE, *FOLLOW_UPS)}

    # --- running ----------------------------------------------------------------------------------

    def run(self, job: JobRecord, worker: str) -> JobResult:
        if job.kind == CREATE:
            return self._create(job, worker)
        issue = CreatedIssue(str(job.payload["issue_id"]), str(job.payload["issue_key"]),
                             self.tracker.issue_url(str(job.payload["issue_key"])))
        if job.kind == ATTACHMENT:
            att = Attachment(**job.payload["attachment"])
            name = str(job.payload["file_name"])
            # An upload whose answer was lost (timeout, a worker killed) may be in Jira already.
            if job.attempts > 1 and name in self.tracker.attachment_names(issue.id):
                log.warning("escalation.attachment_found_on_retry", job=job.id, issue=issue.key)
            else:
                content = self.helpdesk.download_attachment(att.content_url)
                self.tracker.add_attachment(issue.id, name, content, att.content_type)
        elif job.kind == REMOTE_LINK:
            url = self.helpdesk.ticket_url(int(job.payload["ticket_id"]))
            # A stable globalId makes the link an upsert: a retried job never adds a second link.
            self.tracker.add_remote_link(issue.id, f"{self.namespace}:zendesk-ticket:{url}", url,
                                         f"Zendesk ticket #{job.payload['ticket_id']}")
        elif job.kind == ZENDESK_UPDATE:
            self._update_ticket(job, issue)
        return JobResult()

    def _create(self, job: JobRecord, worker: str) -> JobResult:
        assert job.escalation_id is not None
        spec = spec_from(job.payload["spec"])
        label = escalation_label(job.escalation_id)
        issue = self.tracker.find_by_label(label) if job.attempts > 1 else None
        if issue is None:
            if not job.payload.get("checked", True):
                self.tracker.check_issue(spec)  # deferred when Jira was busy at request time
            try:
                issue = self.tracker.create_issue(spec)
            except VendorUnavailable:
                # The answer may be lost while the issue exists: look before giving up.
                issue = self.tracker.find_by_label(label)
                if issue is None:
                    raise
                log.warning("escalation.create_answer_lost", escalation=job.escalation_id, issue=issue.key)
        else:
            log.warning("escalation.create_found_on_retry", escalation=job.escalation_id, issue=issue.key)
        ticket_id = int(job.ticket_id or 0)
        base = {"issue_id": issue.id, "issue_key": issue.key, "ticket_id": ticket_id}
        note: dict[str, Any] = job.payload["note"]
        esc = job.escalation_id
        follow = [NewJob(ATTACHMENT, {**base, **a}, ticket_id=ticket_id, escalation_id=esc, ordered=False)
                  for a in job.payload.get("attachments", [])]
        follow.append(NewJob(REMOTE_LINK, base, ticket_id=ticket_id, escalation_id=esc, ordered=False))
        follow.append(NewJob(ZENDESK_UPDATE, {**base, "issue_type": spec.issue_type, "priority": spec.priority,
                                              "request_type": spec.request_type, "omitted": list(issue.omitted_fields),
                                              "note": note}, ticket_id=ticket_id, escalation_id=esc))
        self.store.record_issue_created(job.escalation_id, issue_id=issue.id, key=issue.key, job=(job.id, worker),
                                        follow_up=follow)
        log.info("escalation.issue_created", escalation=job.escalation_id, ticket=ticket_id, issue=issue.key)
        self.audit.record(AuditEntry(
            actor=str(job.payload.get("agent_email") or "escalink"), action="escalation.created",
            ticket_id=ticket_id, issue_id=issue.id, issue_key=issue.key,
            phi_findings=dict(job.payload.get("phi_findings") or {}), content_hash=job.payload.get("content_hash"),
            detail_code=short_code(["created", str(job.payload.get("phi_code") or "")]),
        ))
        return JobResult(completed=True)

    def _update_ticket(self, job: JobRecord, issue: CreatedIssue) -> None:
        assert job.escalation_id is not None
        ticket_id = int(job.payload["ticket_id"])
        note = job.payload["note"]
        marker = update_marker(job.escalation_id)
        if job.attempts > 1 and any(marker in c.body for c in self.helpdesk.list_comments(ticket_id)):
            log.warning("escalation.update_found_on_retry", escalation=job.escalation_id, ticket=ticket_id)
            return
        lines = [f"Escalated to Jira {issue.key} ({job.payload['issue_type']}): {issue.url}"]
        if job.payload.get("request_type") and "request_type" not in job.payload.get("omitted", []):
            lines.append(f"Request type: {job.payload['request_type']}")
        if job.payload.get("priority"):
            lines.append(f"Priority: {job.payload['priority']}")
        if note.get("hold"):
            lines.append("The ticket is on hold; it reopens when Jira has an update or response.")
        if note.get("phi_note_written"):
            lines.append(f"Details that may be PHI were kept out of {issue.key}: they are in the internal note "
                         "Escalink wrote just before this one.")
        lines += ["", marker]
        custom: dict[int, str] = {}
        if note.get("linked_issues_field_id") is not None:
            keys = [link.jira_key for link in self.store.links_for_ticket(ticket_id)]
            custom[int(note["linked_issues_field_id"])] = ", ".join(keys)
        self.helpdesk.update_ticket(ticket_id, TicketUpdate(
            internal_note="\n".join(lines), status="hold" if note.get("hold") else None,
            add_tags=tuple(note.get("tags") or ()), custom_fields=custom,
        ))

    # --- settling -----------------------------------------------------------------------------------

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None:
        """The escalation's state follows its jobs: failed (no issue), incomplete (a step is dead), done."""
        if job.escalation_id is None:
            return
        if job.kind == CREATE:
            if state == "dead":
                self.store.finish_escalation(job.escalation_id, state="failed", error_code=error_code)
                self.audit.record(AuditEntry(
                    actor=str(job.payload.get("agent_email") or "escalink"), action="escalation.failed",
                    outcome="failed", ticket_id=job.ticket_id, phi_findings=dict(job.payload.get("phi_findings") or {}),
                    detail_code=short_code([error_code or ""]),
                ))
            return
        jobs = [j for j in self.store.jobs(escalation_id=job.escalation_id, limit=1000) if j.kind in FOLLOW_UPS]
        if any(j.state in ("pending", "running") for j in jobs):
            return
        dead = [step_name(j) for j in jobs if j.state == "dead"]
        final = "incomplete" if dead else "done"
        rec = self.store.get_escalation(job.escalation_id)
        if rec is None or rec.state == final:
            return  # another worker settled it a moment ago
        self.store.finish_escalation(job.escalation_id, state=final, error_code=",".join(dead)[:64] or None)
        self.audit.record(AuditEntry(
            actor=rec.agent_email, action=f"escalation.{final}", outcome="ok" if final == "done" else "failed",
            ticket_id=rec.ticket_id, issue_id=rec.jira_issue_id, issue_key=rec.jira_key,
            detail_code=short_code(dead),
        ))
