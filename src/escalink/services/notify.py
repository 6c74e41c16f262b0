"""Use case: notify linked Jira issues (a comment plus chosen ticket attachments), and Tier 2 hand-offs.

As the escalation guide says, a comment goes to ALL issues linked to the ticket; only Tier 2
may target one issue, and a Tier 1 agent hands such a request to Tier 2 instead. Every
outbound text and file name passes the PHI guard before anything is written. Each target
issue gets its own receipt, so one failed issue is retried alone and the others are never
sent twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import structlog

from escalink.domain.draft import PhiAction, Problem
from escalink.domain.errors import Conflict, DraftRejected, EscalinkError, NotFound
from escalink.domain.phi import FieldFinding, PhiBlocked
from escalink.domain.records import Attachment, Comment, TicketUpdate
from escalink.ports.audit import SYSTEM_ACTOR, AuditEntry, AuditLog, NullAuditLog, label_counts, short_code
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.jobs import Dispatcher, JobRecord, JobStore
from escalink.ports.store import LinkRecord, Store
from escalink.ports.sync_store import DeliveryRecord, HandoffRecord, LinkStore, NotifyStore
from escalink.services.note_refs import note_ref
from escalink.services.notify_jobs import CommentingTracker
from escalink.services.notify_text import (
    COMMENT_FIELD,
    FilePlan,
    address_without_name,
    agent_warnings,
    comment_marker,
    file_field,
    guard_notice,
    ref_of,
)
from escalink.services.phi_guard import PhiGuard, chosen_attachments, content_hash
from escalink.services.roles import Caller, NotAllowed, Role, require

__all__ = ["HANDOFF_TAG", "NotifyCommand", "NotifyResult", "NotifyService", "comment_marker", "ref_of"]

log = structlog.get_logger(__name__)

HANDOFF_TAG = "escalink_tier2_handoff"
TIER2_RULE = (
    "Comments go to ALL issues linked to the ticket. Only Tier 2 may send to a single issue: set "
    "handoff_to_tier2 to hand this request to Tier 2, or leave target_issue empty to notify every linked issue."
)
SEVERAL_ISSUES = (
    "Sent to all {n} linked issues ({keys}). Best practice is one Jira issue per Zendesk ticket."
)


class NotifyStores(Store, LinkStore, NotifyStore, JobStore, Protocol):
    """The store ports this use case needs (SqlStore implements them)."""


@dataclass(frozen=True, slots=True)
class NotifyCommand:
    """What the agent asked for in the Notify panel."""

    ticket_id: int
    caller: Caller
    comment: str = ""
    attachment_ids: tuple[int, ...] = ()
    target_issue: str | None = None
    copy_last_comment: bool = False
    handoff_to_tier2: bool = False
    phi_action: PhiAction = PhiAction.BLOCK
    phi_override_reason: str | None = None


@dataclass(slots=True)
class NotifyResult:
    ticket_id: int
    notification_id: str | None = None
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    handoff: HandoffRecord | None = None
    warnings: list[Problem] = field(default_factory=list)
    phi_findings: int = 0

    @property
    def ref(self) -> str | None:
        return ref_of(self.notification_id) if self.notification_id else None

    @property
    def state(self) -> str:
        if self.handoff is not None and self.notification_id is None:
            return "handed_off"
        sent = sum(d.state == "sent" for d in self.deliveries)
        return "sent" if sent == len(self.deliveries) else ("failed" if sent == 0 else "partial")


@dataclass(slots=True)
class _Prepared:
    body: str
    files: list[FilePlan]
    note_lines: list[str]
    targets: list[LinkRecord]
    findings: int
    labels: dict[str, int] = field(default_factory=dict)
    texts_hash: str | None = None


class NotifyService:
    """Sends comments to linked issues, keeps per-issue receipts, retries, and runs Tier 2 hand-offs."""

    def __init__(
        self,
        helpdesk: Helpdesk,
        tracker: CommentingTracker,
        store: NotifyStores,
        guard: PhiGuard,
        *,
        max_attachment_bytes: int,
        audit: AuditLog | None = None,
        dispatcher: Dispatcher,
        wait_seconds: float = 20.0,
    ) -> None:
        self.audit: AuditLog = audit if audit is not None else NullAuditLog()
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.store = store
        self.guard = guard
        self.max_attachment_bytes = max_attachment_bytes
        self.dispatcher = dispatcher
        self.wait_seconds = wait_seconds
        self._context: dict[str, tuple[str, dict[str, int], str | None]] = {}
        # One process serves a ticket's sidebar: this stops a double click from sending a hand-off twice.
        self._handing: set[int] = set()
        self._lock = threading.Lock()

    # --- notify -------------------------------------------------------------------------------

    def notify(self, cmd: NotifyCommand) -> NotifyResult:
        if cmd.target_issue and not cmd.handoff_to_tier2 and not cmd.caller.at_least(Role.TIER2):
            raise NotAllowed(TIER2_RULE, problems=[Problem("target_issue", "tier2_only", TIER2_RULE)])
        if cmd.handoff_to_tier2 and not cmd.target_issue:
            raise DraftRejected("A hand-off to Tier 2 names the one issue to notify; nothing was sent.", problems=[
                Problem("target_issue", "required", "Name the issue (key or id) Tier 2 should notify.")])
        prep = self._prepare(cmd)
        result = NotifyResult(cmd.ticket_id, phi_findings=prep.findings)
        if cmd.handoff_to_tier2:
            result.handoff = self._hand_off(cmd, prep)
            return result
        if prep.note_lines:
            # PHI stays in Zendesk: the note exists before any Jira text points to it.
            keys = ", ".join(t.jira_key for t in prep.targets)
            lines = [f"Kept out of the comment sent to {keys} because it may be PHI "
                     "(the Jira text points to this note):", *[f"- {line}" for line in prep.note_lines],
                     note_ref("phi-note")]
            self.helpdesk.update_ticket(cmd.ticket_id, TicketUpdate(internal_note="\n".join(lines)))
        plan = [f.detail("pending") for f in prep.files]
        notification_id, deliveries = self.store.create_notification(
            ticket_id=cmd.ticket_id, agent_email=cmd.caller.email, body=prep.body,
            attachment_ids=[f.id for f in prep.files],
            target_issue_id=prep.targets[0].jira_issue_id if cmd.target_issue else None,
            targets=[(t.jira_issue_id, t.jira_key) for t in prep.targets], details=plan, with_jobs=True,
        )
        # Audit entries need what only this request knows (PHI counts, the hash of what was sent).
        self._context[notification_id] = (cmd.caller.email, prep.labels, prep.texts_hash)
        self.dispatcher.dispatch([j.id for d in deliveries for j in self.store.jobs(delivery_id=d.id, limit=5)])
        result.notification_id = notification_id
        result.deliveries = self._wait([d.id for d in deliveries])
        result.warnings = agent_warnings(result.deliveries, self.max_attachment_bytes)
        if len(prep.targets) > 1:
            keys = ", ".join(t.jira_key for t in prep.targets)
            result.warnings.insert(0, Problem("links", "several_issues",
                                              SEVERAL_ISSUES.format(n=len(prep.targets), keys=keys)))
        log.info("notify.sent", ticket=cmd.ticket_id, ref=result.ref, targets=len(deliveries),
                 sent=sum(d.state == "sent" for d in result.deliveries), files=len(prep.files),
                 phi_findings=prep.findings, phi_action=str(cmd.phi_action))
        return result

    def retry(self, ticket_id: int, delivery_id: int) -> DeliveryRecord:
        """Send one failed receipt again now (its job, not a second one); a sent receipt is never re-sent."""
        d = self.store.get_delivery(delivery_id)
        if d is None or d.ticket_id != ticket_id:
            raise NotFound(f"Ticket #{ticket_id} has no delivery {delivery_id}.",
                           problems=[Problem("delivery_id", "not_found", "No such delivery on this ticket.")])
        if d.state == "sent":
            raise Conflict(f"Delivery {delivery_id} to {d.jira_key} was already sent; it is not sent again.",
                           problems=[Problem("delivery_id", "already_sent", f"Sent as Jira comment "
                                             f"{d.jira_comment_id}.")])
        jobs = self.store.jobs(delivery_id=delivery_id, limit=50)
        if any(j.state == "running" for j in jobs):
            raise Conflict(f"Delivery {delivery_id} is being retried right now.",
                           problems=[Problem("delivery_id", "retrying", "Wait for the running retry.")])
        now = datetime.now(UTC)
        ids = [j.id for j in jobs if j.state in ("dead", "discarded", "pending")]
        self.store.revive(ids, now=now)
        self.store.due_now(ids, now=now)  # a job waiting for its back-off goes now: the agent asked
        self.store.set_delivery(d.id, state="retrying", attempted=False, details=d.details, error=d.error)
        self._context.setdefault(d.notification_id, (SYSTEM_ACTOR, {}, None))
        self.dispatcher.dispatch(ids)
        [out] = self._wait([delivery_id])
        return out

    def delivery_settled(self, d: DeliveryRecord, job: JobRecord, state: str) -> None:
        """A delivery's job ended (sent, or dead-lettered): write its audit entry."""
        actor, labels, texts_hash = self._context.get(d.notification_id, (SYSTEM_ACTOR, {}, None))
        action = "notify.retried" if job.attempts > 1 and actor == SYSTEM_ACTOR else None
        if texts_hash is None:
            notification = self.store.get_notification(d.notification_id)
            files = [FilePlan.from_detail(x) for x in d.details]
            sent = [t for t in ((notification.body if notification else ""), *(f.file_name for f in files)) if t]
            texts_hash = content_hash(sent)
        self.audit.record(_delivery_entry(actor, action, d, labels, texts_hash))

    def _wait(self, delivery_ids: Sequence[int]) -> list[DeliveryRecord]:
        """The receipts once their jobs ran, or as they stand after `wait_seconds` (the jobs go on)."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            out = [d for i in delivery_ids if (d := self.store.get_delivery(i)) is not None]
            busy = [j for i in delivery_ids for j in self.store.jobs(delivery_id=i, limit=5)
                    if j.state == "running" or (j.state == "pending" and j.attempts == 0)]
            if not busy or self.dispatcher.immediate or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)

    # --- hand-offs ------------------------------------------------------------------------------

    def send_handoff(
        self, handoff_id: int, caller: Caller, phi_action: PhiAction = PhiAction.BLOCK,
        phi_override_reason: str | None = None,
    ) -> NotifyResult:
        """Tier 2 sends what a Tier 1 agent asked for, to the one issue they named."""
        require(caller, Role.TIER2, "Sending a hand-off", "agent_email")
        found = [h for h in self.store.handoffs(status=None) if h.id == handoff_id]
        if not found:
            raise NotFound(f"No hand-off {handoff_id}.",
                           problems=[Problem("handoff_id", "not_found", "No such hand-off.")])
        h = found[0]
        if h.status != "pending":
            raise Conflict(f"Hand-off {handoff_id} is {h.status}; it is not sent again.",
                           problems=[Problem("handoff_id", h.status, f"Hand-off is {h.status}.")])
        with self._lock:
            if handoff_id in self._handing:
                raise Conflict(f"Hand-off {handoff_id} is being sent right now.")
            self._handing.add(handoff_id)
        try:
            result = self.notify(NotifyCommand(
                ticket_id=h.ticket_id, caller=caller, comment=h.body, attachment_ids=h.attachment_ids,
                target_issue=h.target_issue_id, phi_action=phi_action, phi_override_reason=phi_override_reason,
            ))
            self.store.close_handoff(h.id, done_by=caller.email, notification_id=result.notification_id)
            self.audit.record(AuditEntry(
                actor=caller.email, action="handoff.sent", outcome="ok" if result.state == "sent" else "failed",
                ticket_id=h.ticket_id, issue_id=h.target_issue_id,
                issue_key=next((d.jira_key for d in result.deliveries), None), detail_code=f"handoff={h.id}",
            ))
            result.handoff = next(x for x in self.store.handoffs(status=None, ticket_id=h.ticket_id)
                                  if x.id == h.id)
            return result
        finally:
            with self._lock:
                self._handing.discard(handoff_id)

    def _hand_off(self, cmd: NotifyCommand, prep: _Prepared) -> HandoffRecord:
        target = prep.targets[0]
        h = self.store.create_handoff(ticket_id=cmd.ticket_id, requested_by=cmd.caller.email,
                                      target_issue_id=target.jira_issue_id, body=prep.body,
                                      attachment_ids=[f.id for f in prep.files])
        lines = [f"Pending for Tier 2 (hand-off #{h.id}): send a comment to {target.jira_key} only, "
                 f"requested by {cmd.caller.email}."]
        if prep.files:
            lines.append("With attachments: " + ", ".join(f.file_name for f in prep.files))
        if prep.note_lines:
            lines += ["", "Kept out of that comment because it may be PHI (the Jira text points to this note):"]
            lines += [f"- {line}" for line in prep.note_lines]
        lines.append(note_ref("handoff", str(h.id)))
        try:
            self.helpdesk.update_ticket(cmd.ticket_id, TicketUpdate(internal_note="\n".join(lines),
                                                                    add_tags=(HANDOFF_TAG,)))
        except EscalinkError:
            # Tier 2 finds hand-offs through the tag and the note: without them it would sit unseen.
            self.store.close_handoff(h.id, done_by=cmd.caller.email, notification_id=None, status="cancelled")
            raise
        self.audit.record(AuditEntry(
            actor=cmd.caller.email, action="handoff.created", ticket_id=cmd.ticket_id, issue_id=target.jira_issue_id,
            issue_key=target.jira_key, phi_findings=prep.labels, content_hash=prep.texts_hash,
            detail_code=f"handoff={h.id}",
        ))
        log.info("notify.handed_off", ticket=cmd.ticket_id, handoff=h.id, issue=target.jira_key)
        return h

    # --- preparation: everything that can refuse happens before the first write --------------------

    def _prepare(self, cmd: NotifyCommand) -> _Prepared:
        links = self.store.links_for_ticket(cmd.ticket_id)
        if not links:
            raise DraftRejected(f"Ticket #{cmd.ticket_id} has no linked Jira issue; nothing was sent.", problems=[
                Problem("ticket_id", "no_linked_issues", "Escalate the ticket or link an existing issue first.")])
        targets = links
        if cmd.target_issue:
            wanted = cmd.target_issue.strip().upper()
            targets = [lk for lk in links if wanted in (lk.jira_issue_id, lk.jira_key.upper())]
            if not targets:
                keys = ", ".join(lk.jira_key for lk in links)
                raise DraftRejected("The target issue is not linked to this ticket; nothing was sent.", problems=[
                    Problem("target_issue", "not_linked", f"{cmd.target_issue} is not linked; linked: {keys}.")])
        comments = self._comments(cmd) if cmd.attachment_ids or cmd.copy_last_comment else []
        body = cmd.comment.strip()
        chosen = chosen_attachments(comments, cmd.attachment_ids, cmd.ticket_id)
        if cmd.copy_last_comment:
            last = next((c for c in reversed(comments) if c.public), None)
            if last is None:
                raise DraftRejected("The ticket has no public comment to copy; nothing was sent.", problems=[
                    Problem("copy_last_comment", "no_comment", "No public comment on the ticket.")])
            body = "\n\n".join(p for p in (body, last.body.strip()) if p)
            chosen += [a for a in last.attachments if a.id not in {c.id for c in chosen}]
        if not body and not chosen:
            raise DraftRejected("Nothing to send: write a comment or choose attachments.", problems=[
                Problem("comment", "required", "Write a comment, copy the last comment, or choose attachments.")])
        return self._guarded(cmd, body, chosen, targets)

    def _guarded(self, cmd: NotifyCommand, body: str, chosen: list[Attachment],
                 targets: list[LinkRecord]) -> _Prepared:
        order = [a.id for a in chosen]
        names = {a.id: a.file_name for a in chosen}
        texts = {COMMENT_FIELD: body} if body else {}
        texts.update({file_field(i): a.file_name for i, a in enumerate(chosen)})
        findings = self.guard.scan_texts(texts)
        problems = self.guard.override_problems(cmd.phi_action, cmd.phi_override_reason)
        if findings and cmd.phi_action is PhiAction.BLOCK:
            self.audit.record(AuditEntry(
                actor=cmd.caller.email, action="notify.refused_phi", outcome="refused", ticket_id=cmd.ticket_id,
                phi_findings=label_counts(findings), content_hash=content_hash(list(texts.values())), detail_code="phi",
            ))
            self._record_phi(cmd, PhiAction.BLOCK, findings, texts)
            raise PhiBlocked(findings, self.guard.redacted_preview(texts, findings),
                             [f.as_problem() for f in findings])
        if problems:
            raise DraftRejected("The PHI override needs a valid reason; nothing was sent.", problems=problems)
        if findings:
            self._record_phi(cmd, cmd.phi_action, findings, texts)
        g = guard_notice(cmd.phi_action, body, names, order, findings, cmd.ticket_id)
        files = [FilePlan(
            a.id, g.file_names[a.id], a.content_type, a.size,
            a.content_url if g.file_names[a.id] == a.file_name else address_without_name(a.content_url),
            # Judged by Zendesk's size before downloading: a file Jira would refuse is never fetched.
            "too_large" if a.size > self.max_attachment_bytes else None,
        ) for a in chosen]
        sent = content_hash([t for t in (g.body, *(f.file_name for f in files)) if t])
        return _Prepared(g.body, files, g.note_lines, targets, len(findings), label_counts(findings), sent)

    def _comments(self, cmd: NotifyCommand) -> list[Comment]:
        try:
            return self.helpdesk.list_comments(cmd.ticket_id)
        except NotFound as exc:
            raise NotFound(f"Zendesk has no ticket #{cmd.ticket_id} (or Escalink cannot see it); nothing was sent.",
                           problems=[Problem("ticket_id", "not_found", f"No ticket #{cmd.ticket_id}.")],
                           vendor=exc.vendor) from exc

    def _record_phi(self, cmd: NotifyCommand, action: PhiAction, findings: Sequence[FieldFinding],
                    texts: dict[str, str]) -> None:
        self.store.record_phi_decision(self.guard.decision_record(
            ticket_id=cmd.ticket_id, escalation_id=None, agent_email=cmd.caller.email, action=action,
            reason=cmd.phi_override_reason, findings=findings, texts=texts,
        ))

    # --- sending ----------------------------------------------------------------------------------


def _delivery_entry(
    actor: str, action: str | None, d: DeliveryRecord, labels: dict[str, int], texts_hash: str | None
) -> AuditEntry:
    """The audit entry of one delivery; its code carries the reference and whether files went as links."""
    sent = d.state == "sent"
    linked = any(x.get("outcome") == "linked" for x in d.details)
    code = short_code([f"ref={ref_of(d.notification_id)}", "" if sent else "comment_failed",
                       "files_linked" if linked else ""])
    return AuditEntry(actor=actor, action=action or ("notify.sent" if sent else "notify.failed"),
                      outcome="ok" if sent else "failed", ticket_id=d.ticket_id, issue_id=d.jira_issue_id,
                      issue_key=d.jira_key, phi_findings=labels, content_hash=texts_hash, detail_code=code)
