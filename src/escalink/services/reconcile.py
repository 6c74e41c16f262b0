"""Reconciliation: find the Jira comments webhooks missed and store them as if Jira had delivered them.

A periodic job. It asks Jira for the project's issues updated since its cursor (minus an
overlap), and for each issue linked to a ticket, turns every comment created since then into
the `comment_created` webhook body Jira Cloud would have sent, stored through the same
inbound path as real deliveries (`record_inbound`, delivery id
`reconcile:comment:{issue_id}:{comment_id}`). The inbound processor then treats it exactly
like a webhook: it de-duplicates it against the real delivery of the same comment (by Jira
comment id), drops Escalink's own comments as echoes (the author's account and the body are
kept as Jira gave them), and applies the sync policy. Nothing here decides what a comment
means or writes to Zendesk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from escalink.domain.activity import ActivityUser, CommentActivity, IssueActivity
from escalink.ports.cursors import CursorStore
from escalink.ports.store import LinkRecord

log = structlog.get_logger(__name__)

CURSOR_PREFIX = "reconcile:jira:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DELIVERY_PREFIX = "reconcile:comment:"


class ActivitySource(Protocol):
    """The tracker as reconciliation reads it (JiraTracker.updated_since)."""

    def updated_since(
        self, since: datetime, *, limit: int = 500, project_key: str | None = None
    ) -> list[IssueActivity]:
        """Issues updated at or after `since` (some a little earlier), oldest update first, at most `limit`."""
        ...


class ReconcileStore(CursorStore, Protocol):
    """The cursor, the links of an issue, and the inbound event table (see ports.sync_store)."""

    def links_for_issue(self, issue_id: str) -> list[LinkRecord]: ...

    def record_inbound(
        self, *, source: str, delivery_id: str, event_type: str, issue_id: str | None, ticket_id: int | None,
        payload: bytes,
    ) -> bool: ...


@dataclass(slots=True)
class ReconcileReport:
    """What one run saw and stored. Counts only; no content."""

    cursor_before: datetime | None = None
    cursor_after: datetime | None = None
    issues_seen: int = 0
    linked_issues: int = 0
    comments_recorded: int = 0  # new inbound events
    comments_known: int = 0  # stored by an earlier run already (record_inbound said replay)
    comments_too_old: int = 0  # created before the window, or before the issue was linked
    batches: int = 0
    truncated: bool = False  # stopped at max_batches: the next run continues from the cursor
    stalled: bool = False  # a full batch brought nothing newer: more issues share one moment than a batch holds


class Reconciler:
    """Applies what Jira webhooks missed, one run at a time (`run`), from a durable cursor.

    Comments only: status changes, field edits, edited and deleted comments are not
    reconciled (a status-change event would need the status Escalink last saw, which is not
    stored; an edit would reuse the comment's delivery id). A comment is taken when it was
    created at or after the window start (the cursor minus `overlap`, or `initial_lookback`
    before now on the first run) and not before the earliest link of its issue (minus
    `overlap`): a webhook for it would have found no link to follow either.

    `overlap` covers Jira's search index lagging behind writes, and the difference between
    the moments Jira stamps and the order it indexes in. The cursor is the greatest `updated`
    Jira reported (Jira's clock, never Escalink's), and is written only after every event of
    the run is stored: a run that fails half-way is repeated, and the repeats are replays.
    """

    def __init__(
        self,
        tracker: ActivitySource,
        store: ReconcileStore,
        *,
        project_key: str,
        clock: Callable[[], datetime],
        overlap: timedelta,
        initial_lookback: timedelta = timedelta(hours=24),
        batch_size: int = 500,
        max_batches: int = 20,
    ) -> None:
        if overlap < timedelta(0):
            raise ValueError("overlap must not be negative")
        self.tracker = tracker
        self.store = store
        self.project_key = project_key
        self.clock = clock
        self.overlap = overlap
        self.initial_lookback = initial_lookback
        self.batch_size = max(1, batch_size)
        self.max_batches = max(1, max_batches)

    @property
    def cursor_name(self) -> str:
        return f"{CURSOR_PREFIX}{self.project_key}"

    def run(self) -> ReconcileReport:
        cursor = self.store.get_cursor(self.cursor_name)
        report = ReconcileReport(cursor_before=cursor)
        window_start = (cursor if cursor is not None else self.clock() - self.initial_lookback) - self.overlap
        since = window_start
        newest = cursor
        links: dict[str, list[LinkRecord]] = {}
        done: set[tuple[str, str]] = set()
        for _ in range(self.max_batches):
            batch = self.tracker.updated_since(since, limit=self.batch_size, project_key=self.project_key)
            report.batches += 1
            for activity in batch:
                report.issues_seen += 1
                self._issue(activity, window_start, links, done, report)
            if not batch:
                break
            latest = max(a.updated for a in batch)
            newest = latest if newest is None else max(newest, latest)
            if len(batch) < self.batch_size:
                break
            if latest <= since:
                # Every issue of a full batch was updated at or before where it started: the next
                # batch would be the same one. Reported, so a larger batch size can be configured.
                report.stalled = True
                break
            since = latest
        else:
            report.truncated = True
        if newest is not None and (cursor is None or newest > cursor):
            self.store.set_cursor(self.cursor_name, newest)
            report.cursor_after = newest
        else:
            report.cursor_after = cursor
        log.info(
            "reconcile.run", project=self.project_key, issues=report.issues_seen, linked=report.linked_issues,
            recorded=report.comments_recorded, known=report.comments_known, too_old=report.comments_too_old,
            batches=report.batches, truncated=report.truncated, stalled=report.stalled,
        )
        if report.stalled:
            log.warning("reconcile.stalled", project=self.project_key, batch_size=self.batch_size)
        return report

    def _issue(
        self,
        activity: IssueActivity,
        window_start: datetime,
        links: dict[str, list[LinkRecord]],
        done: set[tuple[str, str]],
        report: ReconcileReport,
    ) -> None:
        if activity.issue_id not in links:
            links[activity.issue_id] = self.store.links_for_issue(activity.issue_id)
            if links[activity.issue_id]:
                report.linked_issues += 1
        linked = links[activity.issue_id]
        if not linked:
            return
        linked_at = min(_aware(link.created_at) for link in linked) - self.overlap
        for comment in activity.comments:
            if (activity.issue_id, comment.id) in done:
                continue  # seen in an earlier batch of this run
            done.add((activity.issue_id, comment.id))
            if comment.created < window_start or comment.created < linked_at:
                report.comments_too_old += 1
                continue
            body = json.dumps(comment_created_webhook(activity, comment), separators=(",", ":")).encode()
            stored = self.store.record_inbound(
                source="jira",
                delivery_id=f"{DELIVERY_PREFIX}{activity.issue_id}:{comment.id}",
                event_type="comment_created",
                issue_id=activity.issue_id,
                ticket_id=None,
                payload=body,
            )
            if stored:
                report.comments_recorded += 1
            else:
                report.comments_known += 1


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- the synthesized delivery -------------------------------------------------------------------


def jira_timestamp(moment: datetime) -> str:
    """Jira's way of writing a moment: "2019-02-15T19:11:18.321-0800" (milliseconds, offset without colon)."""
    moment = _aware(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


def _user(user: ActivityUser | None) -> dict[str, Any] | None:
    if user is None:
        return None
    out: dict[str, Any] = {}
    if user.account_id:
        out["accountId"] = user.account_id
    if user.name:
        out["name"] = user.name
    if user.display_name is not None:
        out["displayName"] = user.display_name
    return out


def comment_created_webhook(activity: IssueActivity, comment: CommentActivity) -> dict[str, Any]:
    """The body of the `comment_created` webhook Jira Cloud sends for this comment.

    Same keys as a real delivery (webhookEvent, timestamp, comment with author/updateAuthor,
    the issue with its key and a few fields); no `user`, as Jira sends none for comment
    events. The body stays as Jira gave it (ADF from REST v3, wiki markup from v2), and so
    does the author's account, so Escalink's own comments are still recognised downstream.
    """
    raw: dict[str, Any] = {"id": comment.id}
    if comment.url:
        raw["self"] = comment.url
    author = _user(comment.author)
    if author is not None:
        raw["author"] = author
    raw["body"] = comment.body
    editor = _user(comment.update_author) or author
    if editor is not None:
        raw["updateAuthor"] = editor
    raw["created"] = jira_timestamp(comment.created)
    raw["updated"] = jira_timestamp(comment.updated or comment.created)
    if comment.visibility:
        raw["visibility"] = dict(comment.visibility)
    if comment.jsd_public is not None:
        raw["jsdPublic"] = comment.jsd_public
    issue: dict[str, Any] = {"id": activity.issue_id, "key": activity.key}
    if activity.url:
        issue["self"] = activity.url
    issue["fields"] = {"summary": activity.summary, "status": {"name": activity.status}}
    return {
        "timestamp": (_aware(comment.created) - _EPOCH) // timedelta(milliseconds=1),
        "webhookEvent": "comment_created",
        "comment": raw,
        "issue": issue,
    }
