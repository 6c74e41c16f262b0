"""In-memory state of the emulated Jira site: users, the ESCA project, its fields and issues.

Ids are fixed so that tests and docs can name them:
issue types Bug = 10001, [System] Service Request = 10002; custom fields 10100-10105
(see `CUSTOM_FIELDS`); priorities 1-6 in the escalation guide's order.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PROJECT = {"id": "10000", "key": "ESCA", "name": "Support Escalations"}
BUG = "10001"
SERVICE_REQUEST = "10002"
ISSUE_TYPES = {BUG: "Bug", SERVICE_REQUEST: "[System] Service Request"}
PRIORITIES = ["Production Blocker", "Release Blocker", "Feature Blocker", "Critical", "Major", "Minor"]
SEVERITIES = ["Critical", "High", "Medium", "Low"]
PLATFORMS = ["iOS", "Android", "Member Web App", "Provider Dashboard", "Health Guide Platform"]
ESCALATION_TYPES = [
    "Operations Support",
    "Document Processing Support (Lab, Medical Record, etc)",
    "Technical Execution",
    "Product Feedback",
    "Product / General FAQ",
]
UNCATEGORIZED = "Uncategorized"
# Jira's default status ids for the sandbox workflow's statuses.
STATUS_IDS = {"Open": "1", "In Progress": "3", "Reopened": "4", "Resolved": "5", "Closed": "6",
              "Waiting for Support": "10001"}

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


@dataclass(frozen=True)
class FieldDef:
    """One field on the create screen of an issue type."""

    id: str
    name: str
    kind: str  # summary|text|textarea|select|priority|user|labels|attachment|project|issuetype
    required: bool = False
    options: tuple[str, ...] = ()

    @property
    def custom_id(self) -> int | None:
        return int(self.id.rsplit("_", 1)[1]) if self.id.startswith("customfield_") else None


CUSTOM_FIELDS = {
    "Member UUID": "customfield_10100",
    "Steps to Reproduce": "customfield_10101",
    "Expected vs. Actual Result": "customfield_10102",
    "Severity": "customfield_10103",
    "Platform": "customfield_10104",
    "Support Escalation Type": "customfield_10105",
}
CUSTOM_TYPES = {"text": _CF + "textfield", "textarea": _CF + "textarea", "select": _CF + "select"}


def screen(issue_type_id: str, offer_uncategorized: bool) -> list[FieldDef]:
    """The create-screen fields of an ESCA issue type."""
    common = [
        FieldDef("project", "Project", "project", required=True),
        FieldDef("issuetype", "Issue Type", "issuetype", required=True),
        FieldDef("summary", "Summary", "summary", required=True),
        FieldDef("description", "Description", "textarea"),
        FieldDef("reporter", "Reporter", "user", required=True),
        FieldDef("assignee", "Assignee", "user"),
        FieldDef("priority", "Priority", "priority", options=tuple(PRIORITIES)),
        FieldDef("labels", "Labels", "labels"),
        FieldDef("attachment", "Attachment", "attachment"),
        FieldDef(CUSTOM_FIELDS["Member UUID"], "Member UUID", "text", required=True),
    ]
    if issue_type_id == BUG:
        return common + [
            FieldDef(CUSTOM_FIELDS["Steps to Reproduce"], "Steps to Reproduce", "textarea", required=True),
            FieldDef(
                CUSTOM_FIELDS["Expected vs. Actual Result"], "Expected vs. Actual Result", "textarea", True
            ),
            FieldDef(CUSTOM_FIELDS["Severity"], "Severity", "select", True, tuple(SEVERITIES)),
            FieldDef(CUSTOM_FIELDS["Platform"], "Platform", "select", True, tuple(PLATFORMS)),
        ]
    options = tuple(ESCALATION_TYPES + ([UNCATEGORIZED] if offer_uncategorized else []))
    return common + [
        FieldDef(
            CUSTOM_FIELDS["Support Escalation Type"], "Support Escalation Type", "select", False, options
        )
    ]


def option_id(field_id: str, value: str) -> str:
    """Stable option ids: 10200 + 20 * field index + option index."""
    index = list(CUSTOM_FIELDS.values()).index(field_id)
    all_options = {3: SEVERITIES, 4: PLATFORMS, 5: ESCALATION_TYPES + [UNCATEGORIZED]}[index]
    return str(10200 + 20 * index + all_options.index(value))


def now_jira() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class JiraUser:
    """A directory user; `name` is the Data Center username, `account_id` the Cloud id."""

    account_id: str
    name: str
    email: str
    display_name: str
    active: bool = True

    @property
    def key(self) -> str:
        return self.name


@dataclass
class JiraIssue:
    id: str
    key: str
    issue_type_id: str
    fields: dict[str, Any]
    reporter: JiraUser
    assignee: JiraUser | None
    created: str
    updated: str
    status: str = "Open"
    comments: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    # The issue's history, oldest first: {"id", "author" (JiraUser), "created", "items"}; each item
    # {"field", "fieldtype", "fieldId", "from", "fromString", "to", "toString"} (None: not set).
    histories: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class JiraState:
    """Everything the emulated site holds. Mutate only while holding `lock`."""

    cloud_email: str = "escalink@example.com"
    cloud_api_token: str = field(default_factory=lambda: secrets.token_hex(16))
    dc_pat: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    offer_uncategorized: bool = False
    users: list[JiraUser] = field(default_factory=list)
    issues: dict[str, JiraIssue] = field(default_factory=dict)
    attachment_data: dict[str, bytes] = field(default_factory=dict)
    # Fault switches for tests: comment POSTs on these issue ids/keys answer 500, and
    # uploads larger than `attachment_max_bytes` answer 413 as a real site's limit does.
    fail_comments_for: set[str] = field(default_factory=set)
    attachment_max_bytes: int | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _issue_seq: int = 0
    _id_seq: int = 10000

    def __post_init__(self) -> None:
        if not any(u.email == self.cloud_email for u in self.users):
            self.add_user("escalink", self.cloud_email, "Escalink Integration")

    def next_id(self) -> str:
        with self.lock:
            self._id_seq += 1
            return str(self._id_seq)

    def add_user(self, name: str, email: str, display_name: str) -> JiraUser:
        with self.lock:
            user = JiraUser(f"712020:{secrets.token_hex(12)}", name, email, display_name)
            self.users.append(user)
            return user

    @property
    def service_user(self) -> JiraUser:
        return next(u for u in self.users if u.email == self.cloud_email)

    def user_by(self, *, account_id: str | None = None, name: str | None = None) -> JiraUser | None:
        for user in self.users:
            if (account_id is not None and user.account_id == account_id) or (
                name is not None and user.name == name
            ):
                return user
        return None

    def search_users(self, needle: str) -> list[JiraUser]:
        needle = needle.lower()
        return [
            u
            for u in self.users
            if needle
            and (needle in u.email.lower() or needle in u.display_name.lower() or needle == u.name.lower())
        ]

    def screen(self, issue_type_id: str) -> list[FieldDef]:
        return screen(issue_type_id, self.offer_uncategorized)

    def issue(self, id_or_key: str) -> JiraIssue | None:
        with self.lock:
            if id_or_key in self.issues:
                return self.issues[id_or_key]
            return next((i for i in self.issues.values() if i.key == id_or_key.upper()), None)

    def create_issue(
        self, issue_type_id: str, fields: dict[str, Any], reporter: JiraUser, assignee: JiraUser | None
    ) -> JiraIssue:
        with self.lock:
            self._issue_seq += 1
            stamp = now_jira()
            issue = JiraIssue(
                self.next_id(),
                f"{PROJECT['key']}-{self._issue_seq}",
                issue_type_id,
                fields,
                reporter,
                assignee,
                stamp,
                stamp,
            )
            self.issues[issue.id] = issue
            return issue

    def touch(self, issue: JiraIssue) -> None:
        issue.updated = now_jira()

    def record_change(self, issue: JiraIssue, author: JiraUser, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Add one history entry for a change just made, as Jira does, and move `updated` to its moment."""
        with self.lock:
            stamp = now_jira()
            history = {"id": self.next_id(), "author": author, "created": stamp, "items": items}
            issue.histories.append(history)
            issue.updated = stamp
            return history


def change_item(
    name: str, field_id: str | None, old: tuple[str | None, str | None], new: tuple[str | None, str | None],
) -> dict[str, Any]:
    """One history item: the field's name and id, then (raw value, display string) before and after."""
    return {"field": name, "fieldtype": "jira", "fieldId": field_id, "from": old[0], "fromString": old[1],
            "to": new[0], "toString": new[1]}
