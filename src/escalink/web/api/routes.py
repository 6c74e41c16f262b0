"""The JSON API used by the sidebar and by scripts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Response

from escalink.bootstrap import Container
from escalink.domain.draft import EscalationDraft, Problem
from escalink.domain.errors import NotFound
from escalink.services.escalate import EscalationResult
from escalink.services.phi_guard import replace_spans
from escalink.services.resume import resume_escalation
from escalink.web.api.notify_schemas import delivery_out
from escalink.web.api.schemas import (
    AttachmentOutcome,
    EscalationOut,
    EscalationRecordOut,
    LinkOut,
    PhiScanIn,
    PhiScanOut,
    StepOut,
    TicketLinksOut,
    ValidationResult,
)
from escalink.web.deps import container, require_token
from escalink.web.problems import PROBLEM_JSON, FieldError, PhiFindingOut, ProblemDetails, findings_out

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)])
RECEIPTS_PER_LINK = 20
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 404, 409, 422, 502, 503)
}


def _fe(problems: tuple[Problem, ...] | list[Problem]) -> list[FieldError]:
    return [FieldError(field=p.field, code=p.code, message=p.message) for p in problems]


@router.get("/policy", summary="The escalation policy in force")
def get_policy(c: Container = Depends(container)) -> dict[str, Any]:
    return c.policy.model_dump(mode="json")


@router.post("/escalations/validate", response_model=ValidationResult, responses=PROBLEMS,
             summary="Every problem of a draft at once; sends nothing")
def validate(draft: EscalationDraft, c: Container = Depends(container)) -> ValidationResult:
    preview = c.escalations.validate(draft)
    d = preview.decision
    return ValidationResult(
        valid=preview.ok,
        issue_type=d.issue_type_name,
        request_type=d.request_type,
        errors=_fe(preview.problems),
        warnings=_fe(d.warnings),
        phi_findings=[PhiFindingOut(**f) for f in findings_out(preview.findings)],
        redacted=preview.redacted,
    )


@router.post("/phi/scan", response_model=PhiScanOut, responses=PROBLEMS,
             summary="Find PHI in a text; returns spans and a redacted copy, stores nothing")
def phi_scan(body: PhiScanIn, c: Container = Depends(container)) -> PhiScanOut:
    findings = c.guard.scan(body.text, body.field)
    redacted = replace_spans(body.text, findings, lambda f: f"[{f.label}]")
    return PhiScanOut(findings=[PhiFindingOut(**f) for f in findings_out(findings)], redacted=redacted)


ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": EscalationOut, "description": "Stored; its jobs are still running or waiting to retry"},
}


@router.post("/escalations", response_model=EscalationOut, status_code=201, responses={**PROBLEMS, **ACCEPTED},
             summary="Escalate a ticket: create the Jira issue, link it, put the ticket on hold")
def escalate(
    draft: EscalationDraft,
    response: Response,
    c: Container = Depends(container),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", min_length=1, max_length=128,
                                         description="Send the same key again to get the same escalation"),
) -> EscalationOut:
    return _escalation_out(c.escalations.escalate(draft, idempotency_key=idempotency_key), response)


@router.post("/escalations/{escalation_id}/resume", response_model=EscalationOut, responses={**PROBLEMS, **ACCEPTED},
             summary="Finish an incomplete escalation: re-run only its failed steps (no second issue)")
def resume(escalation_id: UUID, response: Response, c: Container = Depends(container)) -> EscalationOut:
    out = _escalation_out(resume_escalation(c.escalations, str(escalation_id)), response)
    if response.status_code == 201:
        response.status_code = 200
    return out


def _escalation_out(r: EscalationResult, response: Response) -> EscalationOut:
    # 202: stored and queued (Jira slow or down); the agent sees the steps and Escalink keeps trying.
    response.status_code = 202 if r.state in ("queued", "created") else 201
    return EscalationOut(
        escalation_id=r.escalation_id,
        ticket_id=r.ticket_id,
        state=r.state,
        jira_issue_id=r.issue.id or None,
        jira_key=r.issue.key or None,
        jira_url=r.issue.url or None,
        issue_type=r.issue_type,
        request_type=r.request_type,
        priority=r.priority,
        zendesk_status=r.zendesk_status,
        attachments=[AttachmentOutcome(id=a.id, file_name=a.file_name, sent=a.sent) for a in r.attachments],
        steps=[StepOut(step=s.step, ok=s.ok, detail=s.detail) for s in r.steps],
        warnings=_fe(r.warnings),
        phi_findings=r.phi_findings,
    )


@router.get("/escalations/{escalation_id}", response_model=EscalationRecordOut, responses=PROBLEMS)
def get_escalation(escalation_id: UUID, c: Container = Depends(container)) -> EscalationRecordOut:
    rec = c.store.get_escalation(str(escalation_id))
    if rec is None:
        raise NotFound(f"No escalation {escalation_id}.")
    return EscalationRecordOut(escalation_id=rec.id, **{k: getattr(rec, k) for k in (
        "ticket_id", "state", "issue_type", "area", "request_type", "priority", "jira_issue_id", "jira_key",
        "error_code", "created_at", "updated_at")})


@router.get("/tickets/{ticket_id}/links", response_model=TicketLinksOut, responses=PROBLEMS,
            summary="The Jira issues linked to a ticket, with live details")
def ticket_links(ticket_id: int = Path(gt=0), c: Container = Depends(container)) -> TicketLinksOut:
    linked = c.links.for_ticket(ticket_id)
    receipts: dict[str, list[Any]] = {}
    for d in reversed(c.store.deliveries_for_ticket(ticket_id)):
        receipts.setdefault(d.jira_issue_id, []).append(delivery_out(d))
    out = []
    for item in linked:
        v = item.issue
        out.append(LinkOut(
            jira_issue_id=item.link.jira_issue_id,
            key=v.key if v else item.link.jira_key,
            summary=v.summary if v else None,
            status=v.status if v else None,
            priority=v.priority if v else None,
            assignee=v.assignee if v else None,
            updated=v.updated if v else None,
            url=v.url if v else c.tracker.issue_url(item.link.jira_key),
            linked_at=item.link.created_at,
            escalation_id=item.link.escalation_id,
            error=item.error,
            deliveries=receipts.get(item.link.jira_issue_id, [])[:RECEIPTS_PER_LINK],
        ))
    warnings = []
    if len(out) > 1:
        warnings.append(FieldError(field="links", code="several_issues", message=(
            "Best practice is one Jira issue per Zendesk ticket: comments sent with Notify go to ALL linked issues.")))
    return TicketLinksOut(ticket_id=ticket_id, links=out, warnings=warnings)
