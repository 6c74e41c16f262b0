"""Use case: the linked Jira issues of a ticket, with live details cached briefly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from escalink.domain.errors import EscalinkError, NotFound
from escalink.domain.records import IssueView
from escalink.ports.store import LinkRecord, Store
from escalink.ports.tracker import Tracker


@dataclass(frozen=True, slots=True)
class LinkedIssue:
    link: LinkRecord
    issue: IssueView | None
    error: str | None


class LinkedIssues:
    """Reads links from the store and their current state from the tracker."""

    def __init__(
        self,
        store: Store,
        tracker: Tracker,
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.tracker = tracker
        self.ttl = ttl_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, IssueView]] = {}
        self._lock = threading.Lock()

    def for_ticket(self, ticket_id: int) -> list[LinkedIssue]:
        return [self._resolve(link) for link in self.store.links_for_ticket(ticket_id)]

    def _resolve(self, link: LinkRecord) -> LinkedIssue:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(link.jira_issue_id)
        if hit and now - hit[0] < self.ttl:
            return LinkedIssue(link, hit[1], None)
        try:
            view = self.tracker.get_issue(link.jira_issue_id)
        except NotFound:
            return LinkedIssue(link, None, "The Jira issue no longer exists or is not visible to Escalink.")
        except EscalinkError as exc:
            # Jira being down must not hide the links themselves: show them with the reason.
            return LinkedIssue(link, None, exc.message)
        with self._lock:
            self._cache[link.jira_issue_id] = (now, view)
        return LinkedIssue(link, view, None)
