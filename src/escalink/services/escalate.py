"""Use case: escalate a Zendesk ticket into Jira.

Order matters for "nothing half-written": everything that can refuse the
escalation (policy, Jira's create screen and allowed values, the ticket and its
attachments) is checked before the first write. After the issue exists, later
steps (attachments, remote link, ticket update) are attempted one by one and
their outcome is reported instead of hiding a created issue behind an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from escalink.domain.draft import Decision, EscalationDraft, Problem
from escalink.domain.errors import DraftRejected, EscalinkError
from escalink.domain.records import Attachment, CreatedIssue, IssueSpec, TicketUpdate
from escalink.policy.engine import evaluate, to_issue_spec
from escalink.policy.schema import Policy
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.store import Store
from escalink.ports.tracker import Tracker

log = structlog.get_logger(__name__)


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


@dataclass(frozen=True, slots=True)
class Preview:
    decision: Decision
    spec: IssueSpec | None


class EscalationService:
    """Validates drafts and performs escalations through the ports."""

    def __init__(
        self,
        policy: Policy,
        helpdesk: Helpdesk,
        tracker: Tracker,
        store: Store,
        options: EscalationOptions | None = None,
    ):
        self.policy = policy
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.store = store
        self.options = options or EscalationOptions()

    def validate(self, draft: EscalationDraft) -> Preview:
        """Every problem of the draft per policy; no vendor call."""
        decision = evaluate(self.policy, draft)
        spec = to_issue_spec(self.policy, draft, decision) if decision.ok else None
        return Preview(decision=decision, spec=spec)

    def escalate(self, draft: EscalationDraft) -> EscalationResult:
        preview = self.validate(draft)
        if preview.spec is None:
            raise DraftRejected("The escalation has problems; nothing was sent.", problems=preview.decision.problems)
        spec = preview.spec
        omitted = self.tracker.check_issue(spec)
        attachments = self._chosen_attachments(draft)

        escalation_id = self.store.start_escalation(
            ticket_id=draft.ticket_id,
            agent_email=draft.agent_email,
            issue_type=spec.issue_type,
            area=draft.area,
            request_type=spec.request_type,
            priority=spec.priority,
        )
        try:
            issue = self.tracker.create_issue(spec)
        except EscalinkError as exc:
            self.store.finish_escalation(escalation_id, state="failed", error_code=type(exc).__name__)
            raise
        self.store.record_issue_created(escalation_id, issue_id=issue.id, key=issue.key)
        log.info("escalation.issue_created", escalation=escalation_id, ticket=draft.ticket_id, issue=issue.key)

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
            + list(preview.decision.warnings),
        )
        for att in attachments:
            result.attachments.append(self._copy_attachment(issue, att, result))
        self._step(result, "remote_link", lambda: self._add_remote_link(issue, draft.ticket_id))
        update_ok = self._step(result, "zendesk_update", lambda: self._update_ticket(draft.ticket_id, issue, spec))
        if update_ok:
            result.zendesk_status = "hold" if self.options.hold_after_escalation else None
        failed = [s.step for s in result.steps if not s.ok]
        result.state = "incomplete" if failed else "done"
        self.store.finish_escalation(escalation_id, state=result.state, error_code=",".join(failed) or None)
        return result

    def _chosen_attachments(self, draft: EscalationDraft) -> list[Attachment]:
        comments = self.helpdesk.list_comments(draft.ticket_id)
        by_id = {a.id: a for c in comments for a in c.attachments}
        problems = [
            Problem(f"attachment_ids[{i}]", "not_on_ticket", f"Attachment {aid} is not on ticket #{draft.ticket_id}.")
            for i, aid in enumerate(draft.attachment_ids)
            if aid not in by_id
        ]
        if problems:
            raise DraftRejected("Some chosen attachments are not on the ticket; nothing was sent.", problems=problems)
        return [by_id[aid] for aid in dict.fromkeys(draft.attachment_ids)]

    def _copy_attachment(self, issue: CreatedIssue, att: Attachment, result: EscalationResult) -> AttachmentCopy:
        def copy() -> None:
            content = self.helpdesk.download_attachment(att.content_url)
            self.tracker.add_attachment(issue.id, att.file_name, content, att.content_type)

        ok = self._step(result, f"attachment:{att.id}", copy)
        return AttachmentCopy(att.id, att.file_name, ok)

    def _add_remote_link(self, issue: CreatedIssue, ticket_id: int) -> None:
        url = self.helpdesk.ticket_url(ticket_id)
        # A stable globalId makes the link an upsert: a retried escalation never adds a second link.
        global_id = f"{self.options.remote_link_namespace}:zendesk-ticket:{url}"
        self.tracker.add_remote_link(issue.id, global_id, url, f"Zendesk ticket #{ticket_id}")

    def _update_ticket(self, ticket_id: int, issue: CreatedIssue, spec: IssueSpec) -> None:
        lines = [f"Escalated to Jira {issue.key} ({spec.issue_type}): {issue.url}"]
        if spec.request_type and "request_type" not in issue.omitted_fields:
            lines.append(f"Request type: {spec.request_type}")
        if spec.priority:
            lines.append(f"Priority: {spec.priority}")
        if self.options.hold_after_escalation:
            lines.append("The ticket is on hold; it reopens when Jira has an update or response.")
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
            log.warning("escalation.step_failed", step=name, error=type(exc).__name__)
            result.steps.append(StepOutcome(name, False, exc.message))
            return False
        result.steps.append(StepOutcome(name, True))
        return True
