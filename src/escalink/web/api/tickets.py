"""Ticket-side API of the sidebar: link/unlink issues, notify linked issues, receipts, Tier 2 hand-offs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from escalink.bootstrap import Container
from escalink.domain.draft import Problem
from escalink.services.notify import NotifyCommand, NotifyResult
from escalink.services.roles import Caller, Identity, RoleMap
from escalink.web.api.notify_schemas import (
    CallerIn,
    DeliveryOut,
    HandoffSendIn,
    HandoffsOut,
    LinkedOut,
    LinkIn,
    NotifyIn,
    NotifyOut,
    delivery_out,
    handoff_out,
)
from escalink.web.deps import container, require_token
from escalink.web.problems import PROBLEM_JSON, FieldError, ProblemDetails

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)], tags=["notify"])
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 403, 404, 409, 422, 502, 503)
}


def caller_of(body: CallerIn, roles: RoleMap) -> Caller:
    """The one place the caller's role is decided (a signed sidebar session will feed it later)."""
    return roles.resolve(Identity(body.agent_email.lower(), body.agent_id, tuple(body.group_ids)))


def _fe(problems: list[Problem]) -> list[FieldError]:
    return [FieldError(field=p.field, code=p.code, message=p.message) for p in problems]


def _notify_out(r: NotifyResult) -> NotifyOut:
    return NotifyOut(
        ticket_id=r.ticket_id, state=r.state, notification_id=r.notification_id, ref=r.ref,
        deliveries=[delivery_out(d) for d in r.deliveries], handoff=handoff_out(r.handoff) if r.handoff else None,
        warnings=_fe(r.warnings), phi_findings=r.phi_findings,
    )


@router.post("/tickets/{ticket_id}/links", response_model=LinkedOut, status_code=201, responses=PROBLEMS,
             summary="Link an existing Jira issue to the ticket (200 if it was linked already)")
def link_issue(body: LinkIn, response: Response, ticket_id: int = Path(gt=0),
               c: Container = Depends(container)) -> LinkedOut:
    out = c.linking.link(ticket_id, body.issue)
    if not out.created:
        response.status_code = 200
    v = out.issue
    return LinkedOut(ticket_id=ticket_id, created=out.created, jira_issue_id=v.id, key=v.key, summary=v.summary,
                     status=v.status, priority=v.priority, assignee=v.assignee, updated=v.updated, url=v.url,
                     warnings=_fe(out.warnings))


@router.delete("/tickets/{ticket_id}/links/{issue}", status_code=204, responses=PROBLEMS,
               summary="Unlink a Jira issue (key or id) from the ticket; Jira is not changed")
def unlink_issue(ticket_id: int = Path(gt=0), issue: str = Path(min_length=1, max_length=64),
                 c: Container = Depends(container)) -> Response:
    c.linking.unlink(ticket_id, issue)
    return Response(status_code=204)


@router.post("/tickets/{ticket_id}/notify", response_model=NotifyOut, status_code=201,
             responses={**PROBLEMS, 202: {"model": NotifyOut, "description": "Handed to Tier 2, nothing sent yet"}},
             summary="Send a comment and chosen attachments to the linked issues (or hand it to Tier 2)")
def notify(body: NotifyIn, response: Response, ticket_id: int = Path(gt=0),
           c: Container = Depends(container)) -> NotifyOut:
    result = c.notify.notify(NotifyCommand(
        ticket_id=ticket_id, caller=caller_of(body, c.roles), comment=body.comment,
        attachment_ids=tuple(body.attachment_ids), target_issue=body.target_issue,
        copy_last_comment=body.copy_last_comment, handoff_to_tier2=body.handoff_to_tier2,
        phi_action=body.phi_action, phi_override_reason=body.phi_override_reason,
    ))
    if result.state == "handed_off":
        response.status_code = 202
    return _notify_out(result)


@router.post("/tickets/{ticket_id}/deliveries/{delivery_id}/retry", response_model=DeliveryOut,
             responses=PROBLEMS, summary="Send one failed delivery again (409 if it was sent already)")
def retry_delivery(ticket_id: int = Path(gt=0), delivery_id: int = Path(gt=0),
                   c: Container = Depends(container)) -> DeliveryOut:
    return delivery_out(c.notify.retry(ticket_id, delivery_id))


@router.get("/handoffs", response_model=HandoffsOut, responses=PROBLEMS,
            summary="Tier 2 hand-offs (pending ones by default)")
def list_handoffs(status: Literal["pending", "done", "cancelled", "all"] = "pending",
                  ticket_id: int | None = Query(None, gt=0), c: Container = Depends(container)) -> HandoffsOut:
    found = c.store.handoffs(status=None if status == "all" else status, ticket_id=ticket_id)
    return HandoffsOut(handoffs=[handoff_out(h) for h in found])


@router.post("/handoffs/{handoff_id}/send", response_model=NotifyOut, responses=PROBLEMS,
             summary="Tier 2 sends a pending hand-off to the issue it names")
def send_handoff(body: HandoffSendIn, handoff_id: int = Path(gt=0), c: Container = Depends(container)) -> NotifyOut:
    result = c.notify.send_handoff(handoff_id, caller_of(body, c.roles), body.phi_action, body.phi_override_reason)
    return _notify_out(result)
