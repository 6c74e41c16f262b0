"""Use case: escalate a Zendesk ticket into Jira.

Order matters for "nothing half-written": everything that can refuse the
escalation (policy, Jira's create screen and allowed values, the ticket and its
attachments) is checked before the first write. After the issue exists, later
steps (attachments, remote link, ticket update) are attempted one by one and
their outcome is reported instead of hiding a created issue behind an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import structlog

from escalink.domain.draft import Decision, EscalationDraft, PhiAction, Problem
from escalink.domain.errors import Conflict, DraftRejected, EscalinkError, NotFound, VendorUnavailable
from escalink.domain.phi import FieldFinding, PhiBlocked
from escalink.domain.records import Attachment, CreatedIssue, IssueSpec, TicketUpdate
from escalink.policy.engine import evaluate, to_issue_spec
from escalink.policy.schema import Policy
from escalink.ports.audit import AuditEntry, AuditLog, NullAuditLog, label_counts, short_code
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.store import LinkRecord, Store
from escalink.ports.tracker import Tracker
from escalink.services.phi_guard import Guarded, PhiGuard, chosen_attachments, content_hash

log = structlog.get_logger(__name__)


def escalation_label(escalation_id: str) -> str:
    """The Jira label that ties an issue to the escalation that created it."""
    return f"escalink-{escalation_id.replace('-', '')[:12]}"


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
    """Validates drafts and performs escalations through the ports."""

    def __init__(
        self,
        policy: Policy,
        helpdesk: Helpdesk,
        tracker: Tracker,
        store: Store,
        guard: PhiGuard,
        options: EscalationOptions | None = None,
        audit: AuditLog | None = None,
    ):
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

    def escalate(self, draft: EscalationDraft) -> EscalationResult:
        preview = self.validate(draft)
        if not preview.ok:
            texts = self.guard.texts(preview.spec, {}, []) if preview.spec else self._raw_texts(draft)
            self._refuse(draft, preview.findings, preview.redacted, preview.problems, texts)
        spec = preview.spec
        assert spec is not None  # preview.ok implies a spec
        omitted = self.tracker.check_issue(spec)
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
        escalation_id = self.store.start_escalation(
            ticket_id=draft.ticket_id,
            agent_email=draft.agent_email,
            issue_type=spec.issue_type,
            area=draft.area,
            request_type=spec.request_type,
            priority=spec.priority,
        )
        if findings:
            outbound = {**self.guard.texts(original, {}, []), **file_texts}
            self._record_phi(draft, draft.phi_action, findings, escalation_id, outbound)
        # Each issue carries its escalation's label, so a create whose answer was lost can be found.
        spec = dataclasses.replace(spec, labels=(*spec.labels, escalation_label(escalation_id)))
        try:
            issue = self._create_once(spec, escalation_id)
        except EscalinkError as exc:
            self.store.finish_escalation(escalation_id, state="failed", error_code=type(exc).__name__)
            self.audit.record(AuditEntry(
                actor=draft.agent_email, action="escalation.failed", outcome="failed", ticket_id=draft.ticket_id,
                phi_findings=label_counts(findings), detail_code=type(exc).__name__,
            ))
            raise
        self.store.record_issue_created(escalation_id, issue_id=issue.id, key=issue.key)
        log.info("escalation.issue_created", escalation=escalation_id, ticket=draft.ticket_id, issue=issue.key,
                 phi_findings=len(findings), phi_action=str(draft.phi_action))

        result = EscalationResult(
            escalation_id=escalation_id,
            ticket_id=draft.ticket_id,
            issue=issue,
            issue_type=spec.issue_type,
            request_type=None if "request_type" in issue.omitted_fields else spec.request_type,
            priority=spec.priority,
            zendesk_status=None,
            state="created",
            warnings=[Problem(f, "left_blank", OMITTED_MESSAGES.get(f, f"{f} left blank in Jira")) for f in omitted]
            + list(preview.decision.warnings)
            + _several_issues(already),
            phi_findings=len(findings),
        )
        for att in attachments:
            result.attachments.append(self._copy_attachment(issue, att, guarded.file_names[att.id], result))
        self._step(result, "remote_link", lambda: self._add_remote_link(issue, draft.ticket_id))
        update_ok = self._step(
            result, "zendesk_update", lambda: self._update_ticket(draft.ticket_id, issue, spec, guarded)
        )
        if update_ok:
            result.zendesk_status = "hold" if self.options.hold_after_escalation else None
        failed = [s.step for s in result.steps if not s.ok]
        result.state = "incomplete" if failed else "done"
        self.store.finish_escalation(escalation_id, state=result.state, error_code=",".join(failed) or None)
        self.audit.record(AuditEntry(
            actor=draft.agent_email, action="escalation.created", ticket_id=draft.ticket_id, issue_id=issue.id,
            issue_key=issue.key, phi_findings=label_counts(findings),
            content_hash=content_hash(list(self.guard.texts(spec, guarded.file_names, order).values())),
            detail_code=short_code([result.state, f"phi={draft.phi_action}" if findings else ""]),
        ))
        return result

    def _create_once(self, spec: IssueSpec, escalation_id: str) -> CreatedIssue:
        """Create the issue; when the answer is lost (timeout, 5xx), look for it before giving up, so a
        later attempt never makes a second issue for this escalation."""
        try:
            return self.tracker.create_issue(spec)
        except VendorUnavailable:
            found = self.tracker.find_by_label(escalation_label(escalation_id))
            if found is None:
                raise
            log.warning("escalation.create_answer_lost", escalation=escalation_id, issue=found.key)
            return dataclasses.replace(found, omitted_fields=tuple(self.tracker.check_issue(spec)))

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
        try:
            comments = self.helpdesk.list_comments(draft.ticket_id)
        except NotFound as exc:
            raise NotFound(
                f"Zendesk has no ticket #{draft.ticket_id} (or Escalink's account cannot see it); nothing was sent.",
                problems=[Problem("ticket_id", "not_found", f"No ticket #{draft.ticket_id} in Zendesk.")],
                vendor=exc.vendor,
            ) from exc
        return chosen_attachments(comments, draft.attachment_ids, draft.ticket_id)

    def _copy_attachment(
        self, issue: CreatedIssue, att: Attachment, file_name: str, result: EscalationResult
    ) -> AttachmentCopy:
        def copy() -> None:
            content = self.helpdesk.download_attachment(att.content_url)
            self.tracker.add_attachment(issue.id, file_name, content, att.content_type)

        ok = self._step(result, f"attachment:{att.id}", copy)
        return AttachmentCopy(att.id, file_name, ok)

    def _add_remote_link(self, issue: CreatedIssue, ticket_id: int) -> None:
        url = self.helpdesk.ticket_url(ticket_id)
        # A stable globalId makes the link an upsert: a retried escalation never adds a second link.
        global_id = f"{self.options.remote_link_namespace}:zendesk-ticket:{url}"
        self.tracker.add_remote_link(issue.id, global_id, url, f"Zendesk ticket #{ticket_id}")

    def _update_ticket(self, ticket_id: int, issue: CreatedIssue, spec: IssueSpec, guarded: Guarded) -> None:
        lines = [f"Escalated to Jira {issue.key} ({spec.issue_type}): {issue.url}"]
        if spec.request_type and "request_type" not in issue.omitted_fields:
            lines.append(f"Request type: {spec.request_type}")
        if spec.priority:
            lines.append(f"Priority: {spec.priority}")
        if self.options.hold_after_escalation:
            lines.append("The ticket is on hold; it reopens when Jira has an update or response.")
        if guarded.note_lines:
            # PHI stays in Zendesk: the Jira text points here instead.
            lines += ["", f"Kept out of {issue.key} because it may be PHI (the Jira text points to this note):"]
            lines += [f"- {line}" for line in guarded.note_lines]
        custom: dict[int, str] = {}
        if self.options.linked_issues_field_id is not None:
            keys = [link.jira_key for link in self.store.links_for_ticket(ticket_id)]
            custom[self.options.linked_issues_field_id] = ", ".join(keys)
        self.helpdesk.update_ticket(
            ticket_id,
            TicketUpdate(
                internal_note="\n".join(lines),
                status="hold" if self.options.hold_after_escalation else None,
                add_tags=self.options.tags,
                custom_fields=custom,
            ),
        )

    @staticmethod
    def _step(result: EscalationResult, name: str, action: Callable[[], None]) -> bool:
        try:
            action()
        except EscalinkError as exc:
            # The issue already exists: report the failed step instead of failing the escalation,
            # so the agent sees the key and what is left to do.
            log.warning("escalation.step_failed", escalation=result.escalation_id, ticket=result.ticket_id,
                        step=name, error=type(exc).__name__)
            result.steps.append(StepOutcome(name, False, f"{exc.message} {RESUME_HINT}"))
            return False
        result.steps.append(StepOutcome(name, True))
        return True


def _several_issues(already: list[LinkRecord]) -> list[Problem]:
    if not already:
        return []
    keys = ", ".join(link.jira_key for link in already)
    return [Problem("ticket_id", "several_issues", SEVERAL_ISSUES.format(keys=keys))]
