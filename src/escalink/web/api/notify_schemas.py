"""Request and response models of linking, notifying, delivery receipts and Tier 2 hand-offs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from escalink.domain.draft import PhiAction
from escalink.ports.sync_store import DeliveryRecord, HandoffRecord
from escalink.services.notify_text import ref_of
from escalink.web.problems import FieldError

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class CallerIn(BaseModel):
    """Who is calling. A signed sidebar session will supply these instead of the body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agent_email: str = Field(pattern=EMAIL, max_length=320)
    agent_id: int | None = Field(default=None, gt=0, description="Zendesk user id")
    group_ids: list[int] = Field(default_factory=list, description="Zendesk group ids of the agent")


class PhiChoiceIn(BaseModel):
    phi_action: PhiAction = Field(default=PhiAction.BLOCK, description="What to do when PHI is found")
    phi_override_reason: str | None = Field(default=None, max_length=500)


class NotifyIn(CallerIn, PhiChoiceIn):
    comment: str = Field(default="", max_length=30_000, description="The comment for the linked issues")
    attachment_ids: list[int] = Field(default_factory=list, description="Zendesk attachment ids to copy")
    target_issue: str | None = Field(
        default=None, max_length=64, description="One linked issue (key or id): Tier 2 only, or with a hand-off"
    )
    copy_last_comment: bool = Field(
        default=False, description="Send the ticket's latest public comment (and its files, inline images too)"
    )
    handoff_to_tier2: bool = Field(default=False, description="Ask Tier 2 to send this to target_issue")


class HandoffSendIn(CallerIn, PhiChoiceIn):
    pass


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issue: str = Field(min_length=1, max_length=64, description="Jira issue key (ESCA-12) or id")


class DeliveryFileOut(BaseModel):
    id: int
    file_name: str
    outcome: str = Field(description="attached, linked (sent as its Zendesk address) or pending")
    reason: str | None = Field(None, description="too_large, download_failed or upload_failed")


class DeliveryOut(BaseModel):
    """One issue's receipt for one notification."""

    delivery_id: int
    notification_id: str
    ref: str
    jira_issue_id: str
    key: str
    state: str = Field(description="pending, sent, failed or retrying")
    error: str | None
    attempts: int
    jira_comment_id: str | None
    attachments: list[DeliveryFileOut]
    updated_at: datetime


def delivery_out(d: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=d.id, notification_id=d.notification_id, ref=ref_of(d.notification_id),
        jira_issue_id=d.jira_issue_id, key=d.jira_key, state=d.state, error=d.error, attempts=d.attempts,
        jira_comment_id=d.jira_comment_id,
        attachments=[DeliveryFileOut(id=int(str(x["attachment_id"])), file_name=str(x.get("file_name", "")),
                                     outcome=str(x.get("outcome", "")),
                                     reason=str(x["reason"]) if x.get("reason") else None) for x in d.details],
        updated_at=d.updated_at,
    )


class HandoffOut(BaseModel):
    handoff_id: int
    ticket_id: int
    requested_by: str
    target_issue_id: str
    body: str
    attachment_ids: list[int]
    status: str = Field(description="pending, done or cancelled")
    done_by: str | None
    notification_id: str | None
    created_at: datetime


def handoff_out(h: HandoffRecord) -> HandoffOut:
    return HandoffOut(
        handoff_id=h.id, ticket_id=h.ticket_id, requested_by=h.requested_by, target_issue_id=h.target_issue_id,
        body=h.body, attachment_ids=list(h.attachment_ids), status=h.status, done_by=h.done_by,
        notification_id=h.notification_id, created_at=h.created_at,
    )


class NotifyOut(BaseModel):
    ticket_id: int
    state: str = Field(description="sent, partial, failed or handed_off")
    notification_id: str | None
    ref: str | None = Field(description="The reference in the marker line of the Jira comment")
    deliveries: list[DeliveryOut]
    handoff: HandoffOut | None
    warnings: list[FieldError]
    phi_findings: int


class HandoffsOut(BaseModel):
    handoffs: list[HandoffOut]


class LinkedOut(BaseModel):
    ticket_id: int
    created: bool
    jira_issue_id: str
    key: str
    summary: str
    status: str
    priority: str | None
    assignee: str | None
    updated: str | None
    url: str
    warnings: list[FieldError]
