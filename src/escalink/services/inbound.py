"""Use case: inbound two-way sync. Jira answers reach the linked Zendesk tickets.

Webhook deliveries are stored first (`accept_jira`, `accept_zendesk`: parse just enough to
know the issue or ticket, store, answer) and processed afterwards by `process_pending`, which
a background thread calls every few seconds. Processing takes only events older than the
coalescing window and turns every pending event of one ticket into ONE Zendesk update: one
internal note (never a public comment), and the status back to `open` when the policy says so.

Echoes are dropped: changes made by Escalink's own Jira account, and comments that end with
the marker Escalink appends to every comment it posts to Jira. A comment or field change that
arrives twice (a replay, Jira Server's double events, a webhook and reconciliation) is noted
once per ticket, by its comment id or history id (`_tell`); writing the note is
services.inbound_apply. Comment texts and payloads are never logged; log lines carry ids,
counts and short error codes only.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from escalink.adapters.jira.webhook import parse_jira_webhook
from escalink.adapters.zendesk.webhook import parse_zendesk_webhook
from escalink.domain.errors import EscalinkError
from escalink.domain.events import (
    Ignored,
    IssueChanged,
    IssueDeleted,
    JiraEvent,
    TicketMerged,
    WebhookPayloadError,
)
from escalink.policy.sync import SyncPolicy
from escalink.ports.audit import (
    ZENDESK_WEBHOOK_ACTOR,
    AuditEntry,
    AuditLog,
    NullAuditLog,
    jira_actor,
    short_code,
)
from escalink.ports.inbound import SyncHelpdesk, SyncStore, SyncTracker
from escalink.ports.store import LinkRecord
from escalink.ports.sync_store import InboundRecord
from escalink.services.inbound_accept import InboundReceiver, Receipt
from escalink.services.inbound_apply import WAIT_FOR_EARLIER_WRITE, Outcome, TicketWork, apply_ticket
from escalink.services.sync_policy import (
    CHANGED,
    IssueSection,
    decide,
    describe,
    drop_echoes,
    is_escalink_comment,
    refs_of,
    without_refs,
)

__all__ = ["InboundSync", "ProcessReport", "Receipt", "drop_echoes", "is_escalink_comment"]

log = structlog.get_logger(__name__)

RETRY_MAX_WAIT = timedelta(minutes=10)

# --- results ------------------------------------------------------------------------------


@dataclass(slots=True)
class ProcessReport:
    """What one `process_pending` run did, counted in events (and Zendesk updates)."""

    processed: int = 0
    ignored: int = 0
    zendesk_updates: int = 0
    failed: int = 0
    retrying: int = 0


@dataclass(slots=True)
class _RecordWork:
    record: InboundRecord
    targets: list[int] = field(default_factory=list)
    reason: str = "nothing_to_do"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InboundSync(InboundReceiver):
    """Stores inbound webhook deliveries and turns them into Zendesk updates (see module doc)."""

    store: SyncStore

    def __init__(
        self,
        store: SyncStore,
        helpdesk: SyncHelpdesk,
        tracker: SyncTracker,
        sync: SyncPolicy,
        *,
        coalesce_seconds: float = 5.0,
        write_window_seconds: float = 20.0,
        clock: Callable[[], datetime] = _utc_now,
        batch_size: int = 500,
        audit: AuditLog | None = None,
    ) -> None:
        self.audit: AuditLog = audit if audit is not None else NullAuditLog()
        self.store = store
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.sync = sync
        self.coalesce = timedelta(seconds=coalesce_seconds)
        self.write_window = timedelta(seconds=write_window_seconds)
        self.clock = clock
        self.batch_size = batch_size
        self._lock = threading.Lock()
        # (inbound id, ticket) pairs already written, so a retry does not note a ticket twice;
        # links an event changed (merge, deletion), so a retry still knows what they were.
        self._delivered: set[tuple[int, int]] = set()
        self._links_before: dict[int, list[LinkRecord]] = {}
        self._actors: dict[int, str] = {}  # who caused each Jira event, for the audit log

    # --- processing ---------------------------------------------------------------------------

    def attempts(self, inbound_id: int) -> int:
        """Failed tries so far of an event still pending (kept in the store: survives restarts)."""
        record = self.store.get_inbound(inbound_id)
        return record.attempts if record is not None and record.status == "pending" else 0

    def process_pending(self, now: datetime | None = None) -> ProcessReport:
        """Process every due pending event: one Zendesk update per ticket, whatever the burst."""
        with self._lock:
            now = (now or self.clock()).astimezone(UTC)
            records = self.store.pending_inbound(
                received_before=now - self.coalesce, due_at=now, limit=self.batch_size
            )
            report = ProcessReport()
            if not records:
                return report
            tickets: dict[int, TicketWork] = {}
            works: list[_RecordWork] = []
            own: str | None = None
            own_error: str | None = None
            if any(r.source == "jira" for r in records):
                try:
                    own = self.tracker.own_account()
                except EscalinkError as exc:
                    own_error = f"jira_{type(exc).__name__}"
            for record in records:
                if record.source == "jira" and own is None:
                    self._retry(record, own_error or "jira_unavailable", now, report)
                    continue
                work = _RecordWork(record)
                try:
                    self._plan(work, tickets, own or "")
                except WebhookPayloadError:
                    self._finish(record, "failed", "malformed_payload", report)
                    continue
                works.append(work)
            outcomes = {
                ticket_id: apply_ticket(ticket_id, t, helpdesk=self.helpdesk, store=self.store, sync=self.sync,
                                        audit=self.audit, now=now, write_window=self.write_window)
                for ticket_id, t in tickets.items()
            }
            report.zendesk_updates = sum(1 for kind, _ in outcomes.values() if kind == "updated")
            for work in works:
                self._settle(work, outcomes, now, report)
            log.info("inbound.processed", processed=report.processed, ignored=report.ignored,
                     zendesk_updates=report.zendesk_updates, failed=report.failed, retrying=report.retrying)
            return report

    def _plan(self, work: _RecordWork, tickets: dict[int, TicketWork], own: str) -> None:
        record = work.record
        if record.payload is None:
            raise WebhookPayloadError("the stored event has no payload left")
        if record.source == "jira":
            event = parse_jira_webhook(record.payload, {}).event
            self._actors[record.id] = jira_actor(getattr(event, "actor_account", None)
                                                 or getattr(event, "author_account", None))
            self._plan_jira(work, tickets, event, own)
        elif record.source == "zendesk":
            zendesk_event = parse_zendesk_webhook(record.payload, {}).event
            if isinstance(zendesk_event, TicketMerged):
                self._plan_merge(work, tickets, zendesk_event)
            else:
                work.reason = "not_used"
        else:
            work.reason = "unknown_source"

    def _plan_jira(self, work: _RecordWork, tickets: dict[int, TicketWork], raw: JiraEvent, own: str) -> None:
        if isinstance(raw, Ignored):
            work.reason = "not_used"
            return
        event, echo = drop_echoes(raw, own)
        if event is None or isinstance(event, Ignored):
            work.reason = echo or "own_change"
            return
        decision = decide(event, self.sync)
        issue_id = event.issue_id
        # The link follows the issue id; the key is only what people read.
        if (isinstance(event, IssueChanged) and event.previous_key
                and self.store.update_issue_key(issue_id, event.issue_key)):
            self.audit.record(AuditEntry(actor=self._actor(work.record),
                                         action="link.rekeyed", issue_id=issue_id, issue_key=event.issue_key))
        links = self._links_before.get(work.record.id) or self.store.links_for_issue(issue_id)
        if isinstance(event, IssueDeleted) and links:
            self._links_before[work.record.id] = links
            for link in links:
                self.store.remove_link(link.ticket_id, issue_id)
                self.audit.record(AuditEntry(
                    actor=self._actor(work.record), action="link.removed",
                    ticket_id=link.ticket_id, issue_id=issue_id, issue_key=link.jira_key, detail_code="issue_deleted",
                ))
        if not links:
            work.reason = "not_linked"
            return
        if decision.action == "ignore":
            work.reason = "policy_ignores"
            return
        key = getattr(event, "issue_key", None) or links[0].jira_key
        for ticket_id in dict.fromkeys(link.ticket_id for link in links):
            if (work.record.id, ticket_id) in self._delivered:
                continue
            t = tickets.setdefault(ticket_id, TicketWork())
            self._tell(t, ticket_id, event, issue_id, key)
            started = work.record.started_at
            if started is not None:
                t.resumed = True
                t.last_started = started if t.last_started is None else max(t.last_started, started)
            t.record_ids.append(work.record.id)
            work.targets.append(ticket_id)

    def _tell(self, t: TicketWork, ticket_id: int, event: JiraEvent, issue_id: str, key: str) -> None:
        """Add to the ticket's note what the event says that the ticket was not told yet.

        Jira Server sends one comment twice (comment_created and issue_commented); webhook replays
        and reconciliation bring comments and changes again later: each is noted once per ticket,
        by its comment id or its history id (sync_policy.refs_of).
        """
        refs = refs_of(event)
        noted = {r for r in refs if r in t.seen}
        noted |= self.store.noted_comments(ticket_id, [r for r in refs if r not in noted])
        t.seen.update(refs)
        told = without_refs(event, noted) if noted else event
        paragraphs: list[str] = []
        if told is not None:
            decision = decide(told, self.sync)
            paragraphs = describe(told, decision, key)
            # A told comment is the last paragraph; the change is everything before it.
            comment = paragraphs[-1:] if decision.comment is not None else []
            change = paragraphs[: len(paragraphs) - len(comment)]
            for ref in (r for r in refs if r not in noted):
                part = change if ref[2] == CHANGED else comment
                if part:
                    t.refs[ref] = tuple(part)
            t.reopen = t.reopen or (decision.action == "reopen" and bool(paragraphs))
        section = t.issues.setdefault(issue_id, IssueSection(key, self.tracker.issue_url(key), []))
        section.key, section.url = key, self.tracker.issue_url(key)  # the latest key wins
        section.paragraphs.extend(paragraphs)

    def _plan_merge(self, work: _RecordWork, tickets: dict[int, TicketWork], event: TicketMerged) -> None:
        source, target = event.source_ticket_id, event.target_ticket_id
        if target is None or target == source:
            work.reason = "merge_target_unknown"
            return
        links = self._links_before.get(work.record.id)
        if links is None:
            links = self.store.links_for_ticket(source)
            self._links_before[work.record.id] = links
            self.store.move_links(source, target)
            for link in links:
                self.audit.record(AuditEntry(
                    actor=ZENDESK_WEBHOOK_ACTOR, action="merge.links_moved", ticket_id=target,
                    issue_id=link.jira_issue_id, issue_key=link.jira_key, detail_code=f"from_ticket={source}",
                ))
        if not links:
            work.reason = "not_linked"
            return
        keys = ", ".join(dict.fromkeys(link.jira_key for link in links))
        notes = {
            target: f"Zendesk ticket #{source} was merged into this ticket: its linked Jira issues ({keys}) "
                    "now belong to this ticket, and their updates will arrive here.",
            source: f"This ticket was merged into #{target}: Escalink moved its linked Jira issues ({keys}) "
                    f"there; their updates will arrive on #{target}.",
        }
        for ticket_id, text in notes.items():
            if (work.record.id, ticket_id) in self._delivered:
                continue
            t = tickets.setdefault(ticket_id, TicketWork())
            t.extra.append(text)
            t.record_ids.append(work.record.id)
            work.targets.append(ticket_id)

    def _settle(self, work: _RecordWork, outcomes: dict[int, Outcome], now: datetime, report: ProcessReport) -> None:
        record = work.record
        results = [(t, outcomes[t]) for t in work.targets]
        for ticket_id, (kind, _) in results:
            if kind in ("updated", "nothing"):
                self._delivered.add((record.id, ticket_id))
        retry = next((code for _, (kind, code) in results if kind == "retry"), None)
        failed = next((code for _, (kind, code) in results if kind == "failed"), None)
        if retry == WAIT_FOR_EARLIER_WRITE:
            # Not an attempt: the record is due again once the last try can no longer land.
            started = record.started_at or now
            self.store.retry_inbound(record.id, attempts=record.attempts, next_try_at=max(
                now, started + self.write_window), error=retry)
            report.retrying += 1
        elif retry is not None:
            self._retry(record, retry, now, report)
        elif failed is not None:
            self._finish(record, "failed", failed, report)
        elif any(kind == "updated" for _, (kind, _) in results):
            self._finish(record, "processed", None, report)
        else:
            reason = next((code for _, (_, code) in results), work.reason)
            self._finish(record, "ignored", reason, report)

    def _retry(self, record: InboundRecord, code: str, now: datetime, report: ProcessReport) -> None:
        tries = record.attempts + 1
        if tries >= self.sync.max_attempts:
            self._finish(record, "failed", code[:60], report)
            return
        wait = min(RETRY_MAX_WAIT, timedelta(seconds=2 ** (tries - 1)))
        # Durable: a restart keeps the count and the back-off instead of hammering a vendor that is down.
        self.store.retry_inbound(record.id, attempts=tries, next_try_at=now + wait, error=code[:60])
        report.retrying += 1
        log.warning("inbound.retry_later", inbound=record.id, attempt=tries, error=code[:60],
                    wait_seconds=wait.total_seconds())

    def _actor(self, record: InboundRecord) -> str:
        return ZENDESK_WEBHOOK_ACTOR if record.source == "zendesk" else self._actors.get(record.id, jira_actor(None))

    def _finish(self, record: InboundRecord, status: str, code: str | None, report: ProcessReport) -> None:
        self.store.finish_inbound([record.id], status=status, error=code)
        self.audit.record(AuditEntry(
            actor=self._actor(record), action=f"inbound.{status}", outcome="failed" if status == "failed" else "ok",
            ticket_id=record.ticket_id, issue_id=record.issue_id,
            content_hash=hashlib.sha256(record.payload).hexdigest() if record.payload else None,
            detail_code=short_code([code or ""]),
        ))
        for memo in (self._links_before, self._actors):
            memo.pop(record.id, None)
        self._delivered = {pair for pair in self._delivered if pair[0] != record.id}
        if status == "processed":
            report.processed += 1
        elif status == "ignored":
            report.ignored += 1
        else:
            report.failed += 1
            log.warning("inbound.failed", inbound=record.id, source=record.source, error=code)
