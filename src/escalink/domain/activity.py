"""Recent activity on tracker issues, as a search for "updated since" returns it.

Reconciliation reads these to apply what webhooks missed. Comment bodies, summaries and
changed field values are whatever people typed in Jira (PHI included): they are kept out
of `repr`, and must never be logged or put into exception messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as _value_field  # ChangeItem has an attribute named `field`
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
class ChangeItem:
    """One field of a change, as Jira's changelog names it.

    `field` is the display name ("status", "Fix Version"), `field_id` Jira's id ("status",
    "customfield_10072"; Data Center omits it), `field_type` "jira" or "custom". The values
    are Jira's raw ids (`from_value`, `to_value`) and display strings; any of them may be None.
    """

    field: str
    field_id: str | None = None
    field_type: str | None = None
    from_value: str | None = _value_field(default=None, repr=False)
    from_string: str | None = _value_field(default=None, repr=False)
    to_value: str | None = _value_field(default=None, repr=False)
    to_string: str | None = _value_field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ChangeActivity:
    """One entry of an issue's history: who changed which fields, when.

    `id` is the history id, the same number a `jira:issue_updated` webhook carries as
    `changelog.id` for this change.
    """

    id: str
    author: ActivityUser | None
    created: datetime
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True, slots=True)
class IssueActivity:
    """An issue updated since some moment: its id (stable across moves), key, last update, status,
    comments and history.

    `comments` holds every comment of the issue, oldest first, also when the search itself
    sent only some of them (the adapter fetches the rest). `changes` holds the history entries
    Jira sent with the search, oldest first; `changes_complete` is False when Jira said it has
    more than it sent (Cloud sends the most recent ones only).
    """

    issue_id: str
    key: str
    updated: datetime
    status: str
    comments: tuple[CommentActivity, ...] = ()
    summary: str = field(default="", repr=False)
    url: str | None = None
    changes: tuple[ChangeActivity, ...] = ()
    changes_complete: bool = True
