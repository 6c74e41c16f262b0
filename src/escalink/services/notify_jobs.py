"""The job that delivers one notification to one linked issue: its files, then its comment.

The delivery row is the receipt the agent sees; the job is what keeps trying. Files uploaded on
an earlier attempt are never uploaded again (their outcome is in the receipt), and the comment is
never posted blind twice: after a failed or cut-short attempt the issue's comments are searched
for the notification's marker line first, so an answer that was lost does not make a copy.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import structlog

from escalink.domain.errors import EscalinkError, NotFound
from escalink.ports.audit import AuditLog
from escalink.ports.helpdesk import Helpdesk
from escalink.ports.jobs import NOTIFY_DELIVER, JobRecord, JobStore, NewJob
from escalink.ports.sync_store import DeliveryRecord, NotifyStore
from escalink.ports.tracker import Tracker
from escalink.services.jobs import JobResult
from escalink.services.notify_text import FilePlan, comment_marker, ref_of, render_comment

log = structlog.get_logger(__name__)

DELIVER = NOTIFY_DELIVER


class CommentingTracker(Tracker, Protocol):
    """The tracker port plus comments (JiraTracker implements it)."""

    def add_comment(self, issue_id: str, text: str) -> str:
        """Add a comment; returns its id. Never repeated after an ambiguous failure."""
        ...

    def find_comment(self, issue_id: str, text: str) -> str | None:
        """The id of a comment of the issue whose text contains `text`, if any."""
        ...


class DeliveryStores(NotifyStore, JobStore, Protocol):
    """What delivering needs from the store (SqlStore implements it)."""


def deliver_job(d: DeliveryRecord) -> NewJob:
    # Deliveries go to different issues: one that keeps failing must not hold the others back.
    return NewJob(DELIVER, ticket_id=d.ticket_id, delivery_id=d.id, ordered=False)


class NotifyJobs:
    """Handler of `notify.deliver` jobs; audit entries are written by the notify service's callback."""

    def __init__(self, helpdesk: Helpdesk, tracker: CommentingTracker, store: DeliveryStores, audit: AuditLog,
                 on_settled: Any = None) -> None:
        self.helpdesk = helpdesk
        self.tracker = tracker
        self.store = store
        self.audit = audit
        self.on_settled = on_settled
        # A notification's files, downloaded once for all its issues while its deliveries run here.
        self._files: dict[str, dict[int, bytes | str]] = {}
        self._lock = threading.Lock()

    def kinds(self) -> dict[str, NotifyJobs]:
        return {DELIVER: self}

    def run(self, job: JobRecord, worker: str) -> JobResult:
        d = self.store.get_delivery(int(job.delivery_id or 0))
        if d is None:
            raise NotFound(f"Delivery {job.delivery_id} is gone.")
        if d.state == "sent":
            return JobResult()  # sent by an attempt whose end was not recorded
        notification = self.store.get_notification(d.notification_id)
        if notification is None:
            raise NotFound(f"The notification of delivery {d.id} is gone.")
        marker = comment_marker(d.ticket_id, ref_of(d.notification_id))
        if job.attempts > 1:
            found = self.tracker.find_comment(d.jira_issue_id, marker)
            if found is not None:
                log.warning("notify.comment_found_on_retry", delivery=d.id, issue=d.jira_key)
                self.store.set_delivery(d.id, state="sent", jira_comment_id=found, details=d.details)
                return JobResult()
        files = [FilePlan.from_detail(x) for x in d.details]
        previous = {int(str(x["attachment_id"])): x.get("outcome") for x in d.details}
        contents = self._download(d.notification_id, [f for f in files if previous.get(f.id) != "attached"])
        self._deliver(d, notification.body, files, contents, retried=job.attempts > 1)
        return JobResult()

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None:
        d = self.store.get_delivery(int(job.delivery_id or 0))
        if d is None:
            return
        siblings = [j for x in self.store.deliveries_for_ticket(d.ticket_id) if x.notification_id == d.notification_id
                    for j in self.store.jobs(delivery_id=x.id, limit=5) if j.state in ("pending", "running")]
        if not siblings:
            with self._lock:
                self._files.pop(d.notification_id, None)
        if self.on_settled is not None:
            self.on_settled(d, job, state)

    def _download(self, notification_id: str, files: Sequence[FilePlan]) -> dict[int, bytes | str]:
        """Each file once per notification (while its deliveries run in this process): its bytes, or
        why it goes as its address instead. A failed download is tried again by the next attempt."""
        with self._lock:
            cached = self._files.setdefault(notification_id, {})
        out: dict[int, bytes | str] = {}
        for f in files:
            if f.sticky_reason:
                continue
            if isinstance(cached.get(f.id), bytes):
                out[f.id] = cached[f.id]
                continue
            try:
                out[f.id] = cached[f.id] = self.helpdesk.download_attachment(f.url)
            except EscalinkError as exc:
                log.warning("notify.download_failed", attachment=f.id, error=type(exc).__name__)
                out[f.id] = exc.message
        return out

    def _deliver(self, d: DeliveryRecord, body: str, files: Sequence[FilePlan],
                 contents: dict[int, bytes | str], retried: bool = False) -> None:
        previous = {int(str(x["attachment_id"])): x for x in d.details}
        # An upload whose answer was lost may be in Jira already: a retry looks before sending again.
        unsure = [f for f in files if (previous.get(f.id) or {}).get("outcome") != "attached"]
        there = self.tracker.attachment_names(d.jira_issue_id) if retried and unsure else set()
        details: list[dict[str, Any]] = []
        linked: list[tuple[FilePlan, str]] = []
        for f in files:
            before = previous.get(f.id)
            if before is not None and before.get("outcome") == "attached":
                details.append(before)  # uploaded on an earlier attempt: never a second copy
                continue
            if f.file_name in there:
                details.append(f.detail("attached"))
                continue
            data = contents.get(f.id)
            reason: str | None = f.sticky_reason
            message: str | None = None
            if reason is None and not isinstance(data, bytes):
                reason, message = "download_failed", data
            if reason is None and isinstance(data, bytes):
                try:
                    self.tracker.add_attachment(d.jira_issue_id, f.file_name, data, f.content_type)
                except EscalinkError as exc:
                    reason, message = "upload_failed", exc.message
            if reason is None:
                details.append(f.detail("attached"))
            else:
                details.append(f.detail("linked", reason, message))
                linked.append((f, reason))
        ref = ref_of(d.notification_id)
        try:
            comment_id = self.tracker.add_comment(d.jira_issue_id, render_comment(body, linked, d.ticket_id, ref))
        except EscalinkError as exc:
            log.warning("notify.delivery_failed", ticket=d.ticket_id, issue=d.jira_key, ref=ref,
                        error=type(exc).__name__)
            # The receipt says failed (and why) while the job keeps trying.
            self.store.set_delivery(d.id, state="failed", error=exc.message[:500], details=details)
            raise
        self.store.set_delivery(d.id, state="sent", jira_comment_id=comment_id, details=details)
