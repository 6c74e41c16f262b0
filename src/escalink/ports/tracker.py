"""The tracker port (Jira Cloud or Data Center)."""

from __future__ import annotations

from typing import Protocol

from escalink.domain.records import CreatedIssue, IssueDetails, IssueSpec, IssueView


class Tracker(Protocol):
    """Creates issues and reads them back. Implementations raise domain errors only.

    Discovery (create metadata, custom field ids, the reporter's account) is cached
    by the implementation so it costs nothing per escalation once warm.
    """

    def check_issue(self, spec: IssueSpec) -> list[str]:
        """Fields that would be left blank, raising TrackerMisconfigured for values Jira does not offer.

        Makes only (cached) discovery calls; nothing is written.
        """
        ...

    def create_issue(self, spec: IssueSpec) -> CreatedIssue:
        """Create the issue with every field in one request."""
        ...

    def find_by_label(self, label: str) -> CreatedIssue | None:
        """The issue carrying `label`, if any (how a create that timed out is checked before trying again)."""
        ...

    def add_attachment(self, issue_id: str, file_name: str, content: bytes, content_type: str) -> None:
        """Upload one file to the issue."""
        ...

    def attachment_names(self, issue_id: str) -> set[str]:
        """The file names attached to the issue (how a retried upload tells it already went through)."""
        ...

    def add_remote_link(self, issue_id: str, global_id: str, url: str, title: str) -> None:
        """Create or update (by `global_id`) a link from the issue to the ticket."""
        ...

    def get_issue(self, issue_id: str) -> IssueView:
        """The issue as the linked-issues panel shows it. Raises NotFound."""
        ...

    def issue_url(self, key: str) -> str:
        """The browse address of an issue key."""
        ...


class IssueReader(Protocol):
    """Reads an issue in more depth than `Tracker.get_issue`: what an agent opens a linked issue for."""

    def issue_details(self, issue_id: str, comments: int = 3) -> IssueDetails:
        """The issue, its description and its `comments` latest comments, as plain text. Raises NotFound."""
        ...
