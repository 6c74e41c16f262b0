from __future__ import annotations

from datetime import UTC, datetime

from escalink.domain.errors import NotFound, VendorUnavailable
from escalink.domain.records import IssueView
from escalink.ports.store import LinkRecord
from escalink.services.links import LinkedIssues


class FakeStore:
    def __init__(self, links: list[LinkRecord]):
        self.links = links

    def links_for_ticket(self, ticket_id: int) -> list[LinkRecord]:
        return [lk for lk in self.links if lk.ticket_id == ticket_id]


class FakeTracker:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: dict[str, Exception] = {}

    def get_issue(self, issue_id: str) -> IssueView:
        self.calls.append(issue_id)
        if issue_id in self.fail:
            raise self.fail[issue_id]
        return IssueView(issue_id, f"ESCA-{issue_id}", "s", "To Do", "Major", None, None, f"u/{issue_id}")


def _link(issue_id: str) -> LinkRecord:
    return LinkRecord(1, issue_id, f"ESCA-{issue_id}", None, datetime.now(UTC))


def test_details_are_cached_for_the_ttl_then_fetched_again() -> None:
    now = [100.0]
    tracker = FakeTracker()
    svc = LinkedIssues(FakeStore([_link("1")]), tracker, ttl_seconds=30, clock=lambda: now[0])  # type: ignore[arg-type]
    svc.for_ticket(1)
    svc.for_ticket(1)
    assert tracker.calls == ["1"]
    now[0] += 31
    svc.for_ticket(1)
    assert tracker.calls == ["1", "1"]


def test_a_missing_or_unreachable_issue_still_shows_its_link_with_the_reason() -> None:
    tracker = FakeTracker()
    tracker.fail = {"2": NotFound("gone"), "3": VendorUnavailable("Jira is down, try again in 30 seconds")}
    svc = LinkedIssues(FakeStore([_link("1"), _link("2"), _link("3")]), tracker)  # type: ignore[arg-type]
    out = svc.for_ticket(1)
    assert [o.issue is not None for o in out] == [True, False, False]
    assert "no longer exists" in (out[1].error or "")
    assert out[2].error == "Jira is down, try again in 30 seconds"
    assert [o.link.jira_key for o in out] == ["ESCA-1", "ESCA-2", "ESCA-3"]
