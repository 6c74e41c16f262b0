"""What Escalink takes from inbound webhooks: small, vendor-neutral, immutable facts.

The Jira and Zendesk webhook adapters turn a request body into exactly one of these,
wrapped in a delivery that carries the vendor's delivery id for de-duplication. Deciding
what to do about an event (post a note, reopen a ticket, ignore an echo of Escalink's own
comment) belongs to the policy that consumes them, not to the parsers.

Text fields (comment bodies, changed descriptions) may hold anything a person typed,
PHI included: never log them, and never put them into exception messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from escalink.domain.errors import EscalinkError

FieldCategory: TypeAlias = Literal[
    "status", "resolution", "comment", "assignee", "rank", "sprint", "priority", "labels", "other"
]
FIELD_CATEGORIES: tuple[FieldCategory, ...] = (
    "status",
    "resolution",
    "comment",
    "assignee",
    "rank",
    "sprint",
    "priority",
    "labels",
    "other",
)
CommentKind: TypeAlias = Literal["created", "updated", "deleted"]


class WebhookPayloadError(EscalinkError):
    """The body is not a webhook Escalink understands (bad JSON, missing keys, wrong types).

    The message names the missing or malformed part of the payload, never its content.
    """

    status = 400
    title = "The webhook payload is not understood"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed delivery Escalink has no use for; `reason` says why (safe to log)."""

    reason: str


# --- Jira -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changelog item. `from_string`/`to_string` are Jira's display values (may be None).

    `category` groups the fields policy reacts to; everything else is "other".
    `field_id` is Jira's id ("status", "customfield_10072"), absent in Server changelogs.
    """

    field: str
    from_string: str | None
    to_string: str | None
    category: FieldCategory = "other"
    field_id: str | None = None


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """A Jira comment was created, edited or deleted.

    `issue_key` is None when Jira Server sends a comment event without its issue (the id
    then comes from the comment's URL). `comment_id` is None only for a Server
    "issue_comment_deleted" that does not say which comment went: re-read the issue.
    `author_*` is who wrote the comment; `actor_*` who caused this delivery, when known.
    `body` is plain text (rich text flattened), or the wiki markup Jira sent.
    `visibility` is "role:Name" / "group:Name" for a restricted comment, else None.
    """

    kind: CommentKind
    issue_id: str
    issue_key: str | None
    comment_id: str | None
    author_account: str | None
    author_display: str | None
    body: str
    created: datetime | None
    updated: datetime | None
    actor_account: str | None = None
    actor_display: str | None = None
    visibility: str | None = None


@dataclass(frozen=True, slots=True)
class IssueChanged:
    """Fields of a Jira issue changed (status, resolution, assignee, a move, ...).

    Track issues by `issue_id`: the key changes when an issue moves project, in which
    case `previous_key` holds the old one. `actor_account` is the Cloud accountId or the
    Server user name. `comment` is set when the same operation also added a comment
    (a transition screen with a comment box reports both in one delivery).
    `changelog_id` is the id of the issue's history entry for this change (`changelog.id`),
    the same on every delivery of the change and in the issue's history; None when absent.
    """

    issue_id: str
    issue_key: str
    previous_key: str | None
    actor_account: str | None
    actor_display: str | None
    timestamp: datetime | None
    changes: tuple[FieldChange, ...]
    comment: CommentEvent | None = None
    changelog_id: str | None = None

    def categories(self) -> frozenset[FieldCategory]:
        return frozenset(c.category for c in self.changes)


@dataclass(frozen=True, slots=True)
class IssueDeleted:
    """A Jira issue was deleted; its links can no longer be followed."""

    issue_id: str
    issue_key: str
    actor_account: str | None
    actor_display: str | None
    timestamp: datetime | None


JiraEvent: TypeAlias = IssueChanged | CommentEvent | IssueDeleted | Ignored


@dataclass(frozen=True, slots=True)
class JiraDelivery:
    """One Jira webhook request.

    `delivery_id` (X-Atlassian-Webhook-Identifier) is the same on every retry of a
    delivery: de-duplicate on it. `event_name` is `webhookEvent`; `event_type` is
    `issue_event_type_name`, which old Server versions do not send.
    """

    delivery_id: str | None
    event_name: str
    event_type: str | None
    event: JiraEvent


# --- Zendesk ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketMerged:
    """A Zendesk ticket was merged into another one (and closed).

    `target_ticket_id` is None when the payload does not name the surviving ticket.
    """

    source_ticket_id: int
    target_ticket_id: int | None
    actor_id: int | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketStatusChanged:
    """A Zendesk ticket's status, lowercased as the REST API spells it (new/open/pending/hold/solved/closed).

    `previous` is None when the payload only states the current status (trigger
    payloads): compare with what was stored to know whether it changed.
    """

    ticket_id: int
    previous: str | None
    current: str
    actor_id: int | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketCommentAdded:
    """A comment was added to a Zendesk ticket. `public` False means an internal note."""

    ticket_id: int
    comment_id: int
    body: str
    public: bool
    author_id: int | None
    author_name: str | None = None
    author_is_staff: bool | None = None
    occurred_at: datetime | None = None


ZendeskEvent: TypeAlias = TicketMerged | TicketStatusChanged | TicketCommentAdded | Ignored


@dataclass(frozen=True, slots=True)
class ZendeskDelivery:
    """One Zendesk webhook request.

    `delivery_id` is the event webhook's event id (the envelope `id`); trigger and
    target payloads have none. `event_type` is the envelope `type`
    ("zen:event-type:ticket.status_changed"), None for trigger payloads.
    `webhook_id`/`invocation_id` come from the X-Zendesk-Webhook-* headers when sent.
    """

    delivery_id: str | None
    event_type: str | None
    event: ZendeskEvent
    webhook_id: str | None = None
    invocation_id: str | None = None
