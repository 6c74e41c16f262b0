"""Reconciliation: find the Jira comments and changes webhooks missed and store them as if Jira had
delivered them.

A periodic job. It asks Jira for the project's issues updated since its cursor (minus an
overlap), with each issue's history, and for each issue linked to a ticket turns every comment
and every history entry created since then into the webhook body Jira Cloud would have sent
(`comment_created`, `jira:issue_updated`), stored through the same inbound path as real
deliveries (`record_inbound`, delivery ids `reconcile:comment:{issue_id}:{comment_id}` and
`reconcile:change:{issue_id}:{history_id}`). The inbound processor then treats them exactly like
webhooks: it de-duplicates them against the real delivery of the same comment or change (by
Jira comment id, by history id = the webhook's `changelog.id`), drops what Escalink's own
account did as echoes (authors and bodies are kept as Jira gave them), and applies the sync
policy. Nothing here decides what a comment or change means or writes to Zendesk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from escalink.domain.activity import ActivityUser, ChangeActivity, CommentActivity, IssueActivity
from escalink.ports.cursors import CursorStore
from escalink.ports.store import LinkRecord

log = structlog.get_logger(__name__)

CURSOR_PREFIX = "reconcile:jira:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DELIVERY_PREFIX = "reconcile:comment:"
CHANGE_DELIVERY_PREFIX = "reconcile:change:"


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
    changes_recorded: int = 0  # history entries, counted like comments
    changes_known: int = 0
    changes_too_old: int = 0
    changes_cut: int = 0  # issues whose history Jira sent only in part, back into the window: some may be missed
    batches: int = 0
    truncated: bool = False  # stopped at max_batches: the next run continues from the cursor
    stalled: bool = False  # a full batch brought nothing newer: more issues share one moment than a batch holds


class Reconciler:
    """Applies what Jira webhooks missed, one run at a time (`run`), from a durable cursor.

    Reconciled: comments created, and field changes (status, resolution, priority, assignee,
    a move, any other field: every entry of the issue's history), each stored as the webhook
    Jira would have sent. Not reconciled: edited and deleted comments (an edit would reuse the
    comment's delivery id, and a deletion leaves nothing to find) and deleted issues.

    A comment or change is taken when it was created at or after the window start (the cursor
    minus `overlap`, or `initial_lookback` before now on the first run) and not before the
    earliest link of its issue (minus `overlap`): a webhook for it would have found no link to
    follow either. Jira Cloud sends only an issue's most recent history entries with a search;
    when the oldest one it sent is inside the window, older ones in the window may be missing,
    and the run counts the issue in `changes_cut`.

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
        done: set[tuple[str, str, str]] = set()
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
            changes_recorded=report.changes_recorded, changes_known=report.changes_known,
            changes_too_old=report.changes_too_old, changes_cut=report.changes_cut, batches=report.batches,
            truncated=report.truncated, stalled=report.stalled,
        )
        if report.stalled:
            log.warning("reconcile.stalled", project=self.project_key, batch_size=self.batch_size)
        if report.changes_cut:
            log.warning("reconcile.history_cut", project=self.project_key, issues=report.changes_cut)
        return report

    def _issue(
        self,
        activity: IssueActivity,
        window_start: datetime,
        links: dict[str, list[LinkRecord]],
        done: set[tuple[str, str, str]],
        report: ReconcileReport,
    ) -> None:
        if activity.issue_id not in links:
            links[activity.issue_id] = self.store.links_for_issue(activity.issue_id)
            if links[activity.issue_id]:
                report.linked_issues += 1
        linked = links[activity.issue_id]
        if not linked:
            return
        since = max(window_start, min(_aware(link.created_at) for link in linked) - self.overlap)
        for comment in activity.comments:
            taken = self._take(activity, "comment", comment.id, comment.created, since, done)
            if taken is None:
                continue
            if taken == "too_old":
                report.comments_too_old += 1
            elif self._store(activity, "comment_created", DELIVERY_PREFIX, comment.id,
                             comment_created_webhook(activity, comment)):
                report.comments_recorded += 1
            else:
                report.comments_known += 1
        cut = not activity.changes_complete and (not activity.changes or activity.changes[0].created >= since)
        if cut and ("cut", activity.issue_id, "") not in done:
            done.add(("cut", activity.issue_id, ""))
            report.changes_cut += 1
        for change in activity.changes:
            taken = self._take(activity, "change", change.id, change.created, since, done)
            if taken is None or not change.items:
                continue  # seen already, or a history without items: nothing a webhook would say
            if taken == "too_old":
                report.changes_too_old += 1
            elif self._store(activity, "jira:issue_updated", CHANGE_DELIVERY_PREFIX, change.id,
                             issue_updated_webhook(activity, change)):
                report.changes_recorded += 1
            else:
                report.changes_known += 1

    @staticmethod
    def _take(
        activity: IssueActivity, kind: str, item_id: str, created: datetime, since: datetime,
        done: set[tuple[str, str, str]],
    ) -> str | None:
        """None when an earlier batch of this run saw the item; "too_old" or "new" otherwise."""
        if (kind, activity.issue_id, item_id) in done:
            return None
        done.add((kind, activity.issue_id, item_id))
        return "too_old" if created < since else "new"

    def _store(self, activity: IssueActivity, event_type: str, prefix: str, item_id: str, body: dict[str, Any]) -> bool:
        """Store the synthesized delivery; False when an earlier run stored it already (a replay)."""
        return self.store.record_inbound(
            source="jira",
            delivery_id=f"{prefix}{activity.issue_id}:{item_id}",
            event_type=event_type,
            issue_id=activity.issue_id,
            ticket_id=None,
            payload=json.dumps(body, separators=(",", ":")).encode(),
        )


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
    return {
        "timestamp": (_aware(comment.created) - _EPOCH) // timedelta(milliseconds=1),
        "webhookEvent": "comment_created",
        "comment": raw,
        "issue": _issue_json(activity),
    }


def issue_updated_webhook(activity: IssueActivity, change: ChangeActivity) -> dict[str, Any]:
    """The body of the `jira:issue_updated` webhook Jira Cloud sends for this history entry.

    Same keys as a real delivery: webhookEvent, timestamp (the change's moment), `user` (who
    made the change, so Escalink's own changes are still recognised downstream), the issue with
    its key and a few fields (as they are now, not as they were just after the change), and the
    changelog with the history's id and its items as Jira gave them. No `issue_event_type_name`:
    which event type fired is not in the history (old Server deliveries lack it too).
    """
    items: list[dict[str, Any]] = []
    for item in change.items:
        raw: dict[str, Any] = {"field": item.field}
        if item.field_type is not None:
            raw["fieldtype"] = item.field_type
        if item.field_id is not None:
            raw["fieldId"] = item.field_id
        raw.update({"from": item.from_value, "fromString": item.from_string,
                    "to": item.to_value, "toString": item.to_string})
        items.append(raw)
    body: dict[str, Any] = {
        "timestamp": (_aware(change.created) - _EPOCH) // timedelta(milliseconds=1),
        "webhookEvent": "jira:issue_updated",
    }
    user = _user(change.author)
    if user is not None:
        body["user"] = user
    body["issue"] = _issue_json(activity)
    body["changelog"] = {"id": change.id, "items": items}
    return body


def _issue_json(activity: IssueActivity) -> dict[str, Any]:
    issue: dict[str, Any] = {"id": activity.issue_id, "key": activity.key}
    if activity.url:
        issue["self"] = activity.url
    issue["fields"] = {"summary": activity.summary, "status": {"name": activity.status}}
    return issue
