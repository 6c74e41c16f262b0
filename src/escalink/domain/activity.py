"""Recent activity on tracker issues, as a search for "updated since" returns it.

Reconciliation reads these to apply what webhooks missed. Comment bodies and summaries
are whatever people typed in Jira (PHI included): they are kept out of `repr`, and must
never be logged or put into exception messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ActivityUser:
    """A Jira account: `account_id` on Cloud, `name` (the user name) on Data Center."""

    account_id: str | None
    name: str | None
    display_name: str | None = None

    @property
    def id(self) -> str | None:
        """How Escalink names the account elsewhere (CommentEvent.author_account): accountId, else name."""
        return self.account_id or self.name


@dataclass(frozen=True, slots=True)
class CommentActivity:
    """One comment of an issue, as Jira gave it.

    `body` is the raw representation: wiki markup text from REST v2 (Data Center), an
    Atlassian Document Format dict from REST v3 (Cloud). `visibility` is Jira's
    `{"type": "role"|"group", "value": ...}` for a restricted comment, else None.
    `url` is the comment's REST address (Jira's `self`) when Jira sent it.
    """

    id: str
    author: ActivityUser | None
    created: datetime
    updated: datetime | None
    body: str | dict[str, Any] = field(repr=False)
    update_author: ActivityUser | None = None
    visibility: dict[str, str] | None = None
    url: str | None = None
    jsd_public: bool | None = None


@dataclass(frozen=True, slots=True)
class IssueActivity:
    """An issue updated since some moment: its id (stable across moves), key, last update, status, comments.

    `comments` holds every comment of the issue, oldest first, also when the search itself
    sent only some of them (the adapter fetches the rest).
    """

    issue_id: str
    key: str
    updated: datetime
    status: str
    comments: tuple[CommentActivity, ...] = ()
    summary: str = field(default="", repr=False)
    url: str | None = None
