"""Vendor-neutral records exchanged through the ports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    file_name: str
    content_url: str
    content_type: str
    size: int
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    author_id: int | None
    body: str
    public: bool
    created_at: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """A helpdesk agent as the helpdesk knows them now: the sidebar's sign-in reads it."""

    id: int
    email: str
    name: str
    group_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketUpdate:
    """Everything Escalink changes on a ticket, sent as ONE update request."""

    internal_note: str
    status: str | None = None
    add_tags: tuple[str, ...] = ()
    custom_fields: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssueSpec:
    """A tracker issue to create, in the policy's vocabulary (display names, plain text).

    The tracker adapter maps names to ids and text to ADF or wiki markup.
    `request_type_optional` marks a request type that is left blank when the
    tracker's field does not offer it (the escalation guide's "Uncategorized" rule).
    """

    project_key: str
    issue_type: str
    summary: str
    description: str
    reporter_email: str
    member_uuids: tuple[str, ...] = ()
    steps_to_reproduce: tuple[str, ...] = ()
    expected_result: str = ""
    actual_result: str = ""
    severity: str | None = None
    priority: str | None = None
    platform: str | None = None
    request_type: str | None = None
    request_type_optional: bool = False
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreatedIssue:
    id: str
    key: str
    url: str
    omitted_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssueView:
    """A tracker issue as the linked-issues panel shows it."""

    id: str
    key: str
    summary: str
    status: str
    priority: str | None
    assignee: str | None
    updated: str | None
    url: str


@dataclass(frozen=True, slots=True)
class IssueComment:
    """One tracker comment as plain text, for reading in the sidebar."""

    id: str
    author: str | None
    created: str | None
    body: str


@dataclass(frozen=True, slots=True)
class IssueDetails:
    """An issue with its description and latest comments (newest first), as plain text."""

    issue: IssueView
    description: str
    comments: tuple[IssueComment, ...]
    total_comments: int
