"""Use case: escalate a Zendesk ticket into Jira.

Order matters for "nothing half-written": everything that can refuse the
escalation (policy, PHI, Jira's create screen and allowed values, the ticket and
its attachments) is checked before anything is stored. Then the escalation and
its create job are stored in one transaction (the outbox) and workers do the
vendor writes (`escalation_jobs`): the answer reports what they did within the
wait, or that the work is queued and will be retried.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import structlog

from escalink.domain import errors
from escalink.domain.draft import Decision, EscalationDraft, PhiAction, Problem
from escalink.domain.errors import Conflict, DraftRejected, EscalinkError, NotFound, VendorUnavailable
from escalink.domain.phi import FieldFinding, PhiBlocked
from escalink.domain.records import Attachment, CreatedIssue, IssueSpec, TicketUpdate
from escalink.policy.engine import evaluate, to_issue_spec
from escalink.policy.schema import Policy
from escalink.ports.audit import AuditEntry, AuditLog, NullAuditLog, label_counts, short_code
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.jobs import Dispatcher, JobRecord, NewJob
from escalink.ports.store import EscalationRecord, LinkRecord
from escalink.ports.tracker import Tracker
from escalink.services.escalation_jobs import (
    ATTACHMENT,
    CREATE,
    FOLLOW_UPS,
    ZENDESK_UPDATE,
    EscalationStores,
    attachment_payload,
    escalation_label,
    spec_payload,
    step_name,
)
from escalink.services.note_refs import has_ref, note_ref
from escalink.services.phi_guard import PhiGuard, chosen_attachments, content_hash

__all__ = ["EscalationResult", "EscalationService", "escalation_label"]

log = structlog.get_logger(__name__)


FINAL_STATES = ("done", "incomplete", "failed")
CLOSED_TICKET = ("Ticket #{ticket} is closed and Zendesk allows no change to it: create a follow-up ticket and "
                 "escalate that one.")
RESUME_HINT = "The issue exists: resume this escalation later; escalating again would create a second issue."
SEVERAL_ISSUES = (
    "This ticket was already linked to {keys}. Best practice is one Jira issue per Zendesk ticket: "
    "comments sent with Notify go to ALL linked issues."
)
OMITTED_MESSAGES = {
    "request_type": "Support Escalation Type left blank: Jira does not offer this value (as the guide says).",
    "reporter": "Reporter is Escalink's Jira account: the agent has no Jira account or Reporter is not settable.",
}


@dataclass(frozen=True, slots=True)
class EscalationOptions:
    hold_after_escalation: bool = True
    tags: tuple[str, ...] = ("jira_escalated",)
    linked_issues_field_id: int | None = None
    remote_link_namespace: str = "escalink"


@dataclass(slots=True)
class StepOutcome:
    step: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AttachmentCopy:
    id: int
    file_name: str
    sent: bool


@dataclass(slots=True)
class EscalationResult:
    escalation_id: str
    ticket_id: int
    issue: CreatedIssue
    issue_type: str
    request_type: str | None
    priority: str | None
    zendesk_status: str | None
    state: str
    attachments: list[AttachmentCopy] = field(default_factory=list)
    steps: list[StepOutcome] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    phi_findings: int = 0


@dataclass(frozen=True, slots=True)
class Preview:
    """The policy's decision plus the PHI verdict on every outbound text; no vendor call made."""

    decision: Decision
    spec: IssueSpec | None
    findings: tuple[FieldFinding, ...] = ()
    redacted: dict[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()  # policy problems, then blocking PHI findings

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.problems


class EscalationService:
    """Validates drafts and queues escalations as durable jobs, then reports what the jobs did."""

    def __init__(
        self,
        policy: Policy,
        helpdesk: Helpdesk,
        tracker: Tracker,
        store: EscalationStores,
        guard: PhiGuard,
        options: EscalationOptions | None = None,
        audit: AuditLog | None = None,
        *,
        dispatcher: Dispatcher,
        wait_seconds: float = 20.0,
    ):
        self.dispatcher = dispatcher
        self.wait_seconds = wait_seconds
        # Warnings known only when the draft is checked, kept for the answer to that request.
        self._warnings: dict[str, tuple[list[Problem], int]] = {}
        self.audit: AuditLog = audit if audit is not None else NullAuditLog()
        self.guard = guard
        self.policy = policy
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.store = store
        self.options = options or EscalationOptions()

    def validate(self, draft: EscalationDraft) -> Preview:
        """Every problem of the draft: policy, and PHI in any text bound for Jira. No vendor call."""
        decision = evaluate(self.policy, draft)
        spec = to_issue_spec(self.policy, draft, decision) if decision.ok else None
        texts = self.guard.texts(spec, {}, []) if spec else self._raw_texts(draft)
        findings = self.guard.scan_texts(texts)
        problems = list(decision.problems)
        if draft.phi_action is PhiAction.BLOCK:
            problems += [f.as_problem() for f in findings]
        problems += self.guard.override_problems(draft.phi_action, draft.phi_override_reason)
        return Preview(decision, spec, tuple(findings), self.guard.redacted_preview(texts, findings), tuple(problems))

    def escalate(
        self, draft: EscalationDraft, *, idempotency_key: str | None = None, wait_seconds: float | None = None
    ) -> EscalationResult:
        """Check everything, then record the escalation and its create job in one transaction and wait
        (up to `wait_seconds`) for the jobs. A repeated `idempotency_key` answers with the first escalation."""
        if idempotency_key:
            held = self.store.escalation_by_key(idempotency_key)
            if held is not None:
                if held.ticket_id != draft.ticket_id:
                    raise Conflict("This Idempotency-Key was used for another ticket.", problems=[
                        Problem("Idempotency-Key", "reused", f"Used for ticket #{held.ticket_id}.")])
                return self.result_of(held.id, wait_seconds=wait_seconds)
        preview = self.validate(draft)
        if not preview.ok:
            texts = self.guard.texts(preview.spec, {}, []) if preview.spec else self._raw_texts(draft)
            self._refuse(draft, preview.findings, preview.redacted, preview.problems, texts)
        spec = preview.spec
        assert spec is not None  # preview.ok implies a spec
        try:
            omitted, checked = self.tracker.check_issue(spec), True
        except VendorUnavailable as exc:
            # Jira is busy (429 storm, outage): the draft is accepted and the create job checks the
            # fields before creating, so the agent's escalation waits in the queue instead of being lost.
            log.warning("escalation.check_deferred", ticket=draft.ticket_id, error=type(exc).__name__)
            omitted, checked = [], False
        attachments = self._chosen_attachments(draft)
        names = {a.id: a.file_name for a in attachments}
        order = [a.id for a in attachments]
        file_texts = {k: v for k, v in self.guard.texts(spec, names, order).items() if k.startswith("attachment_")}
        file_findings = self.guard.scan_texts(file_texts)
        findings = [*preview.findings, *file_findings]
        if file_findings and draft.phi_action is PhiAction.BLOCK:
            redacted = {**preview.redacted, **self.guard.redacted_preview(file_texts, file_findings)}
            self._refuse(draft, findings, redacted, tuple(f.as_problem() for f in file_findings),
                         {**self.guard.texts(spec, {}, []), **file_texts})
        guarded = self.guard.apply(draft.phi_action, spec, names, order, findings, draft.ticket_id)
        original, spec = spec, guarded.spec

        unfinished = [r for r in self.store.escalations_for_ticket(draft.ticket_id) if r.state == "incomplete"]
        if unfinished:
            first = unfinished[0]
            raise Conflict(
                f"Escalation {first.id} of this ticket ({first.jira_key}) is incomplete: resume it with "
                f"POST /api/escalations/{first.id}/resume instead of escalating again, which would create a "
                "second Jira issue.",
                problems=[Problem("ticket_id", "incomplete_escalation", f"{first.jira_key} is incomplete.")],
            )
        already = self.store.links_for_ticket(draft.ticket_id)
        if guarded.note_lines:
            # PHI stays in Zendesk and is never stored by Escalink: the note is written now, while the
            # text is in hand, before any Jira text points to it. If Zendesk refuses, nothing is sent.
            ref = note_ref("phi-note", idempotency_key and f"{draft.ticket_id}:{idempotency_key}")
            if not (idempotency_key and has_ref((c.body for c in self.helpdesk.list_comments(draft.ticket_id)), ref)):
                self.helpdesk.update_ticket(draft.ticket_id, TicketUpdate(internal_note="\n".join([
                    "Kept out of Jira because it may be PHI (the Jira issue's text points to this note):",
                    *[f"- {line}" for line in guarded.note_lines], ref])))
        escalation_id = str(uuid.uuid4())
        # Each issue carries its escalation's label, so a create whose answer was lost can be found.
        spec = dataclasses.replace(spec, labels=(*spec.labels, escalation_label(escalation_id)))
        sent_hash = content_hash(list(self.guard.texts(spec, guarded.file_names, order).values()))
        payload = {
            "spec": spec_payload(spec),
            "attachments": [attachment_payload(a, guarded.file_names[a.id]) for a in attachments],
            "note": {"hold": self.options.hold_after_escalation, "tags": list(self.options.tags),
                     "linked_issues_field_id": self.options.linked_issues_field_id,
                     "phi_note_written": bool(guarded.note_lines)},
            "agent_email": draft.agent_email, "phi_findings": label_counts(findings), "content_hash": sent_hash,
            "phi_code": f"phi={draft.phi_action}" if findings else "",
            "checked": checked,
        }
        stored_id = self.store.start_escalation(
            ticket_id=draft.ticket_id,
            agent_email=draft.agent_email,
            issue_type=spec.issue_type,
            area=draft.area,
            request_type=spec.request_type,
            priority=spec.priority,
            idempotency_key=idempotency_key,
            jobs=[NewJob(CREATE, payload, ticket_id=draft.ticket_id)],
            escalation_id=escalation_id,
        )
        if stored_id != escalation_id:  # the same Idempotency-Key won a race a moment ago
            return self.result_of(stored_id, wait_seconds=wait_seconds)
        if findings:
            outbound = {**self.guard.texts(original, {}, []), **file_texts}
            self._record_phi(draft, draft.phi_action, findings, escalation_id, outbound)
        log.info("escalation.queued", escalation=escalation_id, ticket=draft.ticket_id, phi_findings=len(findings),
                 phi_action=str(draft.phi_action), attachments=len(attachments))
        warnings = ([Problem(f, "left_blank", OMITTED_MESSAGES.get(f, f"{f} left blank in Jira")) for f in omitted]
                    + list(preview.decision.warnings) + _several_issues(already))
        self._warnings[escalation_id] = (warnings, len(findings))
        self.dispatcher.dispatch([j.id for j in self.store.jobs(escalation_id=escalation_id, limit=10)])
        return self.result_of(escalation_id, wait_seconds=wait_seconds)

    # --- results ------------------------------------------------------------------------------------

    def result_of(self, escalation_id: str, *, wait_seconds: float | None = None) -> EscalationResult:
        """The escalation as its jobs left it, after waiting up to `wait_seconds` for them to settle.

        A create that was refused for good raises its error, as a synchronous create would."""
        rec = self._settle_wait(escalation_id, self.wait_seconds if wait_seconds is None else wait_seconds)
        jobs = self.store.jobs(escalation_id=escalation_id, limit=1000)
        create = next((j for j in jobs if j.kind == CREATE), None)
        if rec.state == "failed" and create is not None and create.state == "dead":
            raise error_from(create.error_code, create.last_error)
        warnings, phi_findings = self._warnings.pop(escalation_id, ([], 0))
        key = rec.jira_key or ""
        update = next((j for j in jobs if j.kind == ZENDESK_UPDATE), None)
        omitted = tuple(update.payload.get("omitted", [])) if update else ()
        result = EscalationResult(
            escalation_id=rec.id, ticket_id=rec.ticket_id,
            issue=CreatedIssue(rec.jira_issue_id or "", key, self.tracker.issue_url(key) if key else "", omitted),
            issue_type=rec.issue_type, request_type=None if "request_type" in omitted else rec.request_type,
            priority=rec.priority, zendesk_status=None, state=rec.state, warnings=warnings, phi_findings=phi_findings,
        )
        if create is not None and create.state != "done":
            result.steps.append(StepOutcome("create", False, _pending_detail(create)))
        for job in jobs:
            if job.kind not in FOLLOW_UPS:
                continue
            ok = job.state == "done"
            detail = "" if ok else (f"{job.last_error or ''} {RESUME_HINT}".strip() if job.state == "dead"
                                    else _pending_detail(job))
            result.steps.append(StepOutcome(step_name(job), ok, detail))
            if job.kind == ATTACHMENT:
                att = job.payload["attachment"]
                result.attachments.append(AttachmentCopy(int(att["id"]), str(job.payload["file_name"]), ok))
            if job.kind == ZENDESK_UPDATE and ok:
                result.zendesk_status = "hold" if self.options.hold_after_escalation else None
        return result

    def _settle_wait(self, escalation_id: str, wait_seconds: float) -> EscalationRecord:
        """Poll until the escalation is final, its jobs are only waiting for a later retry, or time is up."""
        deadline = time.monotonic() + wait_seconds
        while True:
            rec = self.store.get_escalation(escalation_id)
            if rec is None:
                raise NotFound(f"No escalation {escalation_id}.")
            if rec.state in FINAL_STATES or time.monotonic() >= deadline or self.dispatcher.immediate:
                return rec
            active = [j for j in self.store.jobs(escalation_id=escalation_id, limit=1000)
                      if j.state in ("pending", "running")]
            soon = datetime.now(UTC) + timedelta(seconds=1)
            # No job left active but a state not yet final: the last job's settle step is writing it now, so
            # keep polling; only jobs all waiting for a later retry end the wait early.
            if active and all(j.state == "pending" and j.next_try_at and j.next_try_at > soon for j in active):
                return rec
            time.sleep(0.05)

    def _raw_texts(self, draft: EscalationDraft) -> dict[str, str]:
        """Outbound texts of a draft the policy refused (scanned all the same: one answer, every problem)."""
        out = {"summary": draft.summary, "description": draft.description,
               "expected_result": draft.expected_result, "actual_result": draft.actual_result}
        out.update({f"steps_to_reproduce[{i}]": s for i, s in enumerate(draft.steps_to_reproduce)})
        return {k: v for k, v in out.items() if v}

    def _refuse(
        self,
        draft: EscalationDraft,
        findings: tuple[FieldFinding, ...] | list[FieldFinding],
        redacted: dict[str, str],
        problems: tuple[Problem, ...],
        texts: dict[str, str],
    ) -> NoReturn:
        blocking = list(findings) if draft.phi_action is PhiAction.BLOCK else []
        self.audit.record(AuditEntry(
            actor=draft.agent_email, action="escalation.refused_phi" if blocking else "escalation.refused_policy",
            outcome="refused", ticket_id=draft.ticket_id, phi_findings=label_counts(findings),
            content_hash=content_hash(list(texts.values())), detail_code=short_code(p.code for p in problems),
        ))
        # Ids, field names and codes only: the refused text itself may be PHI.
        log.info("escalation.refused", ticket=draft.ticket_id, phi_findings=len(blocking),
                 fields=sorted({p.field for p in problems}), codes=sorted({p.code for p in problems}))
        if blocking:
            self._record_phi(draft, PhiAction.BLOCK, blocking, None, texts)
            raise PhiBlocked(blocking, redacted, problems)
        raise DraftRejected("The escalation has problems; nothing was sent.", problems=problems)

    def _record_phi(
        self,
        draft: EscalationDraft,
        action: PhiAction,
        findings: list[FieldFinding],
        escalation_id: str | None,
        texts: dict[str, str],
    ) -> None:
        self.store.record_phi_decision(self.guard.decision_record(
            ticket_id=draft.ticket_id, escalation_id=escalation_id, agent_email=draft.agent_email, action=action,
            reason=draft.phi_override_reason, findings=findings, texts=texts,
        ))

    def _chosen_attachments(self, draft: EscalationDraft) -> list[Attachment]:
        """The draft's attachments, read from the ticket once it is known to take the updates that follow."""
        try:
            status = self.helpdesk.get_ticket(draft.ticket_id).status
            if status == "closed":
                # Zendesk refuses every change to a closed ticket: its issue could never be linked,
                # noted or put on hold, so nothing is created at all.
                raise DraftRejected(f"Ticket #{draft.ticket_id} is closed; nothing was sent.", problems=[Problem(
                    "ticket_id", "closed", CLOSED_TICKET.format(ticket=draft.ticket_id))])
            comments = self.helpdesk.list_comments(draft.ticket_id)
        except NotFound as exc:
            raise NotFound(
                f"Zendesk has no ticket #{draft.ticket_id} (or Escalink's account cannot see it); nothing was sent.",
                problems=[Problem("ticket_id", "not_found", f"No ticket #{draft.ticket_id} in Zendesk.")],
                vendor=exc.vendor,
            ) from exc
        return chosen_attachments(comments, draft.attachment_ids, draft.ticket_id)


def _pending_detail(job: JobRecord) -> str:
    if job.state == "running":
        return "In progress."
    when = f" at {job.next_try_at:%H:%M:%S} UTC" if job.next_try_at else ""
    why = f" after: {job.last_error}" if job.last_error else ""
    return f"Queued; Escalink tries again{when}{why}".rstrip() + "."


def error_from(code: str | None, message: str | None) -> EscalinkError:
    """The domain error a dead job recorded, rebuilt for the answer."""
    cls = getattr(errors, code or "", None)
    if isinstance(cls, type) and issubclass(cls, EscalinkError):
        return cls(message or code or "failed")
    return VendorUnavailable(message or "The escalation could not be created.")


def _several_issues(already: list[LinkRecord]) -> list[Problem]:
    if not already:
        return []
    keys = ", ".join(link.jira_key for link in already)
    return [Problem("ticket_id", "several_issues", SEVERAL_ISSUES.format(keys=keys))]
