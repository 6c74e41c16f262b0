"""Response models of the HTTP API (they shape the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from escalink.web.api.notify_schemas import DeliveryOut
from escalink.web.problems import FieldError, PhiFindingOut


class ValidationResult(BaseModel):
    valid: bool
    issue_type: str | None
    request_type: str | None
    errors: list[FieldError]
    warnings: list[FieldError]
    phi_findings: list[PhiFindingOut] = []
    redacted: dict[str, str] = {}


class PhiScanIn(BaseModel):
    text: str = Field(max_length=100_000)
    field: str = Field("description", description="summary, description, steps, comment or filename")


class PhiScanOut(BaseModel):
    findings: list[PhiFindingOut]
    redacted: str


class AttachmentOutcome(BaseModel):
    id: int
    file_name: str
    sent: bool


class StepOut(BaseModel):
    step: str
    ok: bool
    detail: str = ""


class EscalationOut(BaseModel):
    escalation_id: str
    ticket_id: int
    state: str = Field(description="queued (no issue yet), created (follow-up steps running), done, incomplete")
    jira_issue_id: str | None
    jira_key: str | None
    jira_url: str | None
    issue_type: str
    request_type: str | None
    priority: str | None
    zendesk_status: str | None
    attachments: list[AttachmentOutcome]
    steps: list[StepOut]
    warnings: list[FieldError]
    phi_findings: int = 0


class EscalationRecordOut(BaseModel):
    escalation_id: str
    ticket_id: int
    state: str
    issue_type: str
    area: str | None
    request_type: str | None
    priority: str | None
    jira_issue_id: str | None
    jira_key: str | None
    error_code: str | None
    created_at: datetime
    updated_at: datetime


class LinkOut(BaseModel):
    jira_issue_id: str
    key: str
    summary: str | None
    status: str | None
    priority: str | None
    assignee: str | None
    updated: str | None
    url: str | None
    linked_at: datetime
    escalation_id: str | None
    error: str | None
    deliveries: list[DeliveryOut] = Field(default_factory=list, description="Notify receipts, newest first")


class TicketLinksOut(BaseModel):
    ticket_id: int
    links: list[LinkOut]
    warnings: list[FieldError]
