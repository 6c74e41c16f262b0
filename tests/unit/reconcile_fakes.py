"""Stand-ins for reconciliation tests: Jira's "updated since" search and the store, plus activity builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from escalink.domain.activity import ActivityUser, ChangeActivity, ChangeItem, CommentActivity, IssueActivity
from escalink.ports.store import LinkRecord
from escalink.services.reconcile import Reconciler

FIXTURES = Path(__file__).resolve().parents[1] / "adapters" / "jira_webhooks" / "fixtures"
NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
CURSOR = NOW - timedelta(hours=1)
OVERLAP = timedelta(minutes=5)
ENGINEER = ActivityUser("712020:engineer", None, "Jordan Pike")
OWN = ActivityUser("712020:escalink", None, "Escalink Integration")
LINKED_AT = NOW - timedelta(days=3)


def comment(
    cid: str, created: datetime, author: ActivityUser = ENGINEER, body: Any = "Looking into it"
) -> CommentActivity:
    return CommentActivity(id=cid, author=author, created=created, updated=created, body=body, update_author=author)


def issue(
    iid: str, updated: datetime, *comments: CommentActivity, key: str | None = None,
    changes: tuple[ChangeActivity, ...] = (), complete: bool = True,
) -> IssueActivity:
    return IssueActivity(
        issue_id=iid, key=key or f"ESCA-{iid[-2:]}", updated=updated, status="In Progress", comments=comments,
        summary="App closes after login", changes=changes, changes_complete=complete,
    )


@dataclass
class FakeJira:
    """Answers like JiraTracker.updated_since: oldest update first, a few minutes early, at most `limit`."""

    issues: list[IssueActivity]
    margin: timedelta = timedelta(minutes=3)
    calls: list[tuple[datetime, int, str | None]] = field(default_factory=list)

    def updated_since(
        self, since: datetime, *, limit: int = 500, project_key: str | None = None
    ) -> list[IssueActivity]:
        self.calls.append((since, limit, project_key))
        found = sorted((i for i in self.issues if i.updated >= since - self.margin), key=lambda i: i.updated)
        return found[:limit]


@dataclass
class FakeStore:
    links: dict[str, list[LinkRecord]] = field(default_factory=dict)
    cursors: dict[str, datetime] = field(default_factory=dict)
    inbound: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_after: int | None = None  # raise on the record after this many were stored

    def link(self, issue_id: str, ticket_id: int = 101, at: datetime = LINKED_AT) -> None:
        self.links.setdefault(issue_id, []).append(LinkRecord(ticket_id, issue_id, f"ESCA-{issue_id[-2:]}", None, at))

    def get_cursor(self, name: str) -> datetime | None:
        return self.cursors.get(name)

    def set_cursor(self, name: str, value: datetime) -> None:
        self.cursors[name] = value

    def links_for_issue(self, issue_id: str) -> list[LinkRecord]:
        return list(self.links.get(issue_id, []))

    def record_inbound(
        self, *, source: str, delivery_id: str, event_type: str, issue_id: str | None, ticket_id: int | None,
        payload: bytes,
    ) -> bool:
        if self.fail_after is not None and len(self.inbound) >= self.fail_after:
            raise RuntimeError("database went away")
        if delivery_id in self.inbound:
            return False
        self.inbound[delivery_id] = {
            "source": source, "event_type": event_type, "issue_id": issue_id, "ticket_id": ticket_id,
            "payload": payload,
        }
        return True


def reconciler(jira: FakeJira, store: FakeStore, **kw: Any) -> Reconciler:
    return Reconciler(jira, store, project_key="ESCA", clock=lambda: NOW, overlap=OVERLAP, **kw)


def with_cursor(store: FakeStore, at: datetime = CURSOR) -> FakeStore:
    store.cursors["reconcile:jira:ESCA"] = at
    return store


def change(hid: str, created: datetime, *items: ChangeItem, author: ActivityUser | None = ENGINEER) -> ChangeActivity:
    return ChangeActivity(id=hid, author=author, created=created,
                          items=items or (ChangeItem("status", "status", "jira", "3", "In Progress", "5", "Resolved"),))
