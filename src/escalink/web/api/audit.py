"""Audit log API for administrators: the append-only record of actions, read page by page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from escalink.bootstrap import Container
from escalink.domain.draft import Problem
from escalink.domain.errors import EscalinkError
from escalink.web.deps import container, require_token
from escalink.web.problems import PROBLEM_JSON, ProblemDetails

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)], tags=["audit"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 422)
}


class BadRange(EscalinkError):
    """The requested time range is empty or reversed."""

    status = 422
    title = "The time range is invalid"


class AuditEntryOut(BaseModel):
    """One action: ids, PHI counts per label and a content hash, never a text."""

    seq: int = Field(description="Position in the log; pass the last one as `after` to read on")
    at: datetime
    actor: str = Field(description='Agent e-mail, "jira:<account>", "zendesk:webhook" or "escalink"')
    action: str = Field(examples=["escalation.created"])
    outcome: str = Field(description="ok, refused or failed")
    ticket_id: int | None
    issue_id: str | None
    issue_key: str | None
    phi_findings: dict[str, int] = Field(description="PHI findings per label")
    content_hash: str | None = Field(description="sha256 of the texts involved (never the texts)")
    detail_code: str | None


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null when this page is the last")


@router.get("/audit", response_model=AuditPageOut, responses=PROBLEMS,
            summary="Audit entries from `since` (included) to `until` (excluded), oldest first")
def audit_entries(
    since: datetime = Query(description="ISO 8601; without an offset it is taken as UTC"),
    until: datetime | None = Query(None, description="ISO 8601, excluded"),
    limit: int = Query(1000, ge=1, le=10_000),
    after: int | None = Query(None, ge=0, description="`seq` of the last entry already read"),
    c: Container = Depends(container),
) -> AuditPageOut:
    if until is not None and _aware(until) <= _aware(since):
        raise BadRange("`until` must be after `since`.",
                       problems=[Problem("until", "before_since", "Choose an `until` after `since`.")])
    found = c.store.entries(since, until, limit=limit, after_seq=after)
    entries = [AuditEntryOut(**{**e.as_json(), "at": e.at}) for e in found]
    return AuditPageOut(entries=entries, next_after=entries[-1].seq if len(entries) == limit else None)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
