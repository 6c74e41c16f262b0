"""What an agent submits to escalate a ticket, and the problems found in it.

Pure data: no I/O. Field names are the API's field names, so a `Problem.field`
can be shown beside the form input it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class IssueKind(StrEnum):
    """The two issue types Support may create in the escalation project."""

    BUG = "bug"
    SERVICE_REQUEST = "service_request"


class PhiAction(StrEnum):
    """What the agent chose to do when PHI was found in text bound for Jira."""

    BLOCK = "block"  # refuse the write (the default): nothing is sent
    REDACT = "redact"  # send with each flagged span replaced by [LABEL]
    MOVE_TO_NOTE = "move_to_internal_note"  # flagged text goes to a Zendesk internal note instead
    OVERRIDE = "override"  # a false positive: send as written; needs a reason, audited


class EscalationDraft(BaseModel):
    """An escalation as the agent filled it in the sidebar.

    Only `ticket_id` and `agent_email` are structurally required; everything the
    escalation guide requires per issue type is checked by the policy's validator,
    so that one call reports every problem at once instead of failing on the first.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ticket_id: int = Field(gt=0, description="Zendesk ticket id")
    agent_email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=320,
        description="E-mail of the escalating agent (Jira reporter)",
    )
    area: str | None = Field(default=None, description="Area from the escalation table; sets issue and request type")
    issue_type: IssueKind | None = Field(
        default=None, description="bug or service_request; derived from area if absent"
    )
    summary: str = ""
    description: str = ""
    member_uuids: list[str] = Field(default_factory=list, description="Impacted member UUID(s)")
    steps_to_reproduce: list[str] = Field(default_factory=list, description="Ordered steps, one per item")
    expected_result: str = ""
    actual_result: str = ""
    severity: str | None = None
    priority: str | None = None
    platform: str | None = None
    request_type: str | None = Field(default=None, description="Support escalation type (Service Request)")
    attachment_ids: list[int] = Field(default_factory=list, description="Zendesk attachment ids to copy")
    checklist: list[str] = Field(default_factory=list, description="Ids of the Step 0 checks the agent confirmed")
    phi_action: PhiAction = Field(
        default=PhiAction.BLOCK, description="What to do when PHI is found in text bound for Jira"
    )
    phi_override_reason: str | None = Field(
        default=None, max_length=500, description="Why flagged text is not PHI (needed with phi_action=override)"
    )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a draft (or a request), attached to the field at fault."""

    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's reading of a draft: what will be created, and every problem found."""

    issue_kind: IssueKind | None
    issue_type_name: str | None
    request_type: str | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
