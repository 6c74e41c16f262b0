"""The "Create issue" panel: Step 0 checks, the area choice, the form for the area's issue type with
inline checks and PHI handling, and the escalation's result.

The wizard's state travels in the form (see `escalate_form.py`); every check is the API's own
`EscalationService.validate`, and the submit is `EscalationService.escalate` with the idempotency key the
form was drawn with, so a double click or a retry answers with the same escalation. The agent is always
the session's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from starlette.requests import ClientDisconnect

from escalink.bootstrap import Container
from escalink.domain.draft import PhiAction, Problem
from escalink.domain.errors import DraftRejected, EscalinkError, NotFound
from escalink.domain.phi import FieldFinding
from escalink.domain.records import Attachment
from escalink.services.escalate import CLOSED_TICKET, Preview
from escalink.services.roles import Caller
from escalink.web.deps import container
from escalink.web.ui.deps import current_caller, current_session, page, templates
from escalink.web.ui.escalate_form import (
    KEY_PATTERN,
    Built,
    FormState,
    apply_op,
    build_draft,
    checklist_missing,
    fingerprint,
    new_idempotency_key,
    outbound_texts,
    redact,
)
from escalink.web.ui.escalate_view import (
    QUEUED_STATES,
    area_groups,
    error_alert,
    form_view,
    result_steps,
)
from escalink.web.ui.session import UiSession

router = APIRouter(prefix="/app", include_in_schema=False)
TICKET = Path(gt=0)
ONE_PER_TICKET = "one_jira_per_ticket"


async def posted(request: Request) -> FormState:
    """The posted form as the wizard's state (read once, before the route runs)."""
    try:
        return FormState.from_form(await request.form())
    except ClientDisconnect as exc:
        # htmx cancels a check when a newer one (or a button) replaces it: nothing to answer.
        raise HTTPException(400, "The request was cancelled.") from exc


def _shell(c: Container, ticket_id: int, caller: Caller) -> dict[str, Any]:
    """What the ticket shell needs when a step is loaded as a whole page."""
    return {"ticket_id": ticket_id, "caller": caller, "tab": "escalate",
            "zendesk_ticket_url": c.helpdesk.ticket_url(ticket_id)}


def _start(request: Request, c: Container, ticket_id: int, caller: Caller, state: FormState,
           error: str | None = None, refusal: str | None = None) -> HTMLResponse:
    linked = c.store.links_for_ticket(ticket_id)
    practice = next((b.text for b in c.policy.best_practices if b.id == ONE_PER_TICKET), None)
    return page(request, "escalate_start.html", status_code=422 if error else 200, **_shell(c, ticket_id, caller),
                policy=c.policy, checked=set(state.checklist), error=error, refusal=refusal,
                linked_keys=[link.jira_key for link in linked], best_practice=practice)


def _refusal(c: Container, ticket_id: int) -> str | None:
    """Why this ticket cannot be escalated at all, said before the agent types anything. Zendesk being
    unreachable now is no reason: the submit checks the ticket again."""
    try:
        status = c.helpdesk.get_ticket(ticket_id).status
    except NotFound:
        return f"Zendesk has no ticket #{ticket_id} (or Escalink's account cannot see it)."
    except EscalinkError:
        return None
    return CLOSED_TICKET.format(ticket=ticket_id) if status == "closed" else None


def _area(request: Request, c: Container, ticket_id: int, caller: Caller, state: FormState,
          error: str | None = None) -> HTMLResponse:
    return page(request, "escalate_area.html", status_code=422 if error else 200, **_shell(c, ticket_id, caller),
                groups=area_groups(c.policy), state=state, error=error)


def _gate(request: Request, c: Container, ticket_id: int, caller: Caller, state: FormState) -> HTMLResponse | None:
    """Step 0 and the area come first: a form posted without them goes back to that step."""
    if checklist_missing(c.policy, state):
        return _start(request, c, ticket_id, caller, state, "Confirm every check before you continue.")
    if not state.area or c.policy.area(state.area) is None:
        return _area(request, c, ticket_id, caller, state, "Choose the area of the escalation to continue.")
    return None


def _ticket_attachments(c: Container, ticket_id: int) -> tuple[list[Attachment] | None, str | None]:
    """The ticket's attachments (inline images too) to choose from, or why they cannot be listed now."""
    try:
        comments = c.helpdesk.list_comments(ticket_id)
    except EscalinkError as exc:
        return None, (f"Zendesk did not list this ticket's attachments ({exc.message}). You can still send them "
                      "later with Notify.")
    seen: dict[int, Attachment] = {}
    for comment in comments:
        for a in comment.attachments:
            seen.setdefault(a.id, a)
    return list(seen.values()), None


def _file_findings(c: Container, built: Built, names: dict[int, str]) -> list[FieldFinding]:
    """PHI in the chosen attachments' file names, keyed as the escalation service keys them."""
    if built.draft is None:
        return []
    order = list(dict.fromkeys(built.draft.attachment_ids))
    return c.guard.scan_texts({f"attachment_ids[{i}]": names[a] for i, a in enumerate(order) if a in names})


def _check(c: Container, ticket_id: int, session: UiSession, state: FormState) -> tuple[Built, Preview | None]:
    built = build_draft(c.policy, state, ticket_id, session.email)
    return built, c.escalations.validate(built.draft) if built.draft else None


def _phi_op(c: Container, ticket_id: int, session: UiSession, state: FormState) -> str | None:
    """Redact, Redact all, Move to internal note, Not PHI, Choose again: these need the current scan."""
    built, preview = _check(c, ticket_id, session, state)
    if preview is None or built.draft is None:
        return None
    texts = outbound_texts(preview.spec, built.draft)
    op = state.op
    if op == "redact_all":
        redact(state, list(preview.redacted), texts, preview.redacted)
        return "create-issue"
    if op.startswith("redact:"):
        name = op.removeprefix("redact:")
        redact(state, [name], texts, preview.redacted)
        return name.replace("[", "-").rstrip("]")
    action = op.removeprefix("phi:")
    if action == PhiAction.OVERRIDE.value:
        state.phi_action = action
        findings = [*preview.findings, *_file_findings(c, built, state.attachment_names)]
        state.phi_ack = fingerprint(findings, texts)
        return "phi_override_reason"
    if action == PhiAction.MOVE_TO_NOTE.value:
        state.phi_action = action
        return "create-issue"
    state.phi_action, state.phi_ack, state.phi_override_reason = PhiAction.BLOCK.value, "", ""
    return "phi-choices"


def _form(request: Request, c: Container, ticket_id: int, caller: Caller, session: UiSession, state: FormState,
          *, show_errors: bool, visited: frozenset[str] | None = None, focus: str | None = None,
          status_code: int = 200, extra_problems: Sequence[Problem] = (), alert: str | None = None) -> HTMLResponse:
    attachments, attachments_error = _ticket_attachments(c, ticket_id)
    names = {a.id: a.file_name for a in attachments} if attachments is not None else state.attachment_names
    built, preview = _check(c, ticket_id, session, state)
    view = form_view(c.policy, ticket_id, state, built, preview, show_errors=show_errors, visited=visited,
                     attachments=attachments, attachments_error=attachments_error, file_names=names,
                     extra_findings=_file_findings(c, built, names), extra_problems=extra_problems, alert=alert)
    if focus == "create-issue" and view.submit_blocked:
        focus = None
    view.focus = focus
    return page(request, "escalate_form.html", status_code=status_code, **_shell(c, ticket_id, caller), view=view)


def _prepare(c: Container, state: FormState) -> None:
    row = c.policy.area(state.area)
    rule = c.policy.issue_type(row.issue_type) if row else None
    steps = rule.fields.get("steps_to_reproduce") if rule else None
    state.ensure_rows((steps.min_items or 1) if steps else 0)
    if row is not None and row.request_type and not state.request_type:
        state.request_type = row.request_type
    if not KEY_PATTERN.match(state.idempotency_key):
        state.idempotency_key = new_idempotency_key()


def _fresh_key_after_failure(c: Container, state: FormState) -> None:
    """A key whose escalation failed for good would answer every retry with that failure: pressing Create
    issue again after reading it is a new attempt, so the form gets a new key. (A refused draft stores
    nothing, so its key stays: a retry of the same form is still recognised.)"""
    held = c.store.escalation_by_key(state.idempotency_key)
    if held is not None and held.state == "failed":
        state.idempotency_key = new_idempotency_key()


@router.get("/tickets/{ticket_id}/escalate", response_class=HTMLResponse)
def escalate_start(request: Request, ticket_id: int = TICKET, caller: Caller = Depends(current_caller),
                   c: Container = Depends(container)) -> HTMLResponse:
    """Step 0: the reminders and the checks to confirm before anything else."""
    return _start(request, c, ticket_id, caller, FormState(), refusal=_refusal(c, ticket_id))


@router.post("/tickets/{ticket_id}/escalate/area", response_class=HTMLResponse)
def escalate_area(request: Request, ticket_id: int = TICKET, caller: Caller = Depends(current_caller),
                  state: FormState = Depends(posted), c: Container = Depends(container)) -> HTMLResponse:
    """The Escalation Types table, once every Step 0 check is confirmed (also "Change area" from the form)."""
    if checklist_missing(c.policy, state):
        return _start(request, c, ticket_id, caller, state, "Confirm every check before you continue.")
    return _area(request, c, ticket_id, caller, state)


@router.post("/tickets/{ticket_id}/escalate/form", response_class=HTMLResponse)
def escalate_form(request: Request, ticket_id: int = TICKET, caller: Caller = Depends(current_caller),
                  session: UiSession = Depends(current_session), state: FormState = Depends(posted),
                  c: Container = Depends(container)) -> HTMLResponse:
    """The form for the chosen area's issue type, drawn again after any of its buttons."""
    gate = _gate(request, c, ticket_id, caller, state)
    if gate is not None:
        return gate
    _prepare(c, state)
    focus: str | None = "esc-form-heading"
    if state.op.startswith(("redact", "phi:")):
        focus = _phi_op(c, ticket_id, session, state)
    elif state.op:
        row = c.policy.area(state.area)
        rule = c.policy.issue_type(row.issue_type) if row else None
        uuids = rule.fields.get("member_uuids") if rule else None
        focus = apply_op(c.policy, state, state.op, uuids.max_items if uuids else None)
    return _form(request, c, ticket_id, caller, session, state, show_errors=bool(state.op) or state.touched(),
                 visited=state.visited, focus=focus)


@router.post("/tickets/{ticket_id}/escalate/check", response_class=HTMLResponse)
def escalate_check(request: Request, ticket_id: int = TICKET, session: UiSession = Depends(current_session),
                   state: FormState = Depends(posted), c: Container = Depends(container)) -> HTMLResponse:
    """Inline checks as the agent types: the messages beside each input and the PHI findings, as
    out-of-band fragments. Sends nothing anywhere."""
    if checklist_missing(c.policy, state) or c.policy.area(state.area) is None:
        return templates.TemplateResponse(request, "escalate_check.html", {"view": None}, status_code=422)
    built, preview = _check(c, ticket_id, session, state)
    view = form_view(c.policy, ticket_id, state, built, preview, show_errors=True, visited=state.visited,
                     file_names=state.attachment_names,
                     extra_findings=_file_findings(c, built, state.attachment_names))
    return templates.TemplateResponse(request, "escalate_check.html", {"view": view})


@router.post("/tickets/{ticket_id}/escalate", response_class=HTMLResponse)
def escalate_submit(request: Request, ticket_id: int = TICKET, caller: Caller = Depends(current_caller),
                    session: UiSession = Depends(current_session), state: FormState = Depends(posted),
                    c: Container = Depends(container)) -> HTMLResponse:
    """Create the issue. The server checks everything again: the button's state is never trusted."""
    gate = _gate(request, c, ticket_id, caller, state)
    if gate is not None:
        return gate
    if not KEY_PATTERN.match(state.idempotency_key):
        _prepare(c, state)
        return _form(request, c, ticket_id, caller, session, state, show_errors=True, status_code=422,
                     alert="This form is out of date: check it and press Create issue again.")
    _prepare(c, state)
    built, preview = _check(c, ticket_id, session, state)
    if built.draft is None or preview is None:
        return _form(request, c, ticket_id, caller, session, state, show_errors=True, status_code=422,
                     alert="The escalation has problems; nothing was sent.")
    draft = built.draft
    if draft.phi_action is PhiAction.OVERRIDE:
        # "Not PHI" covers the passages the agent saw; anything flagged since is blocked until they look again.
        findings = [*preview.findings, *_file_findings(c, built, state.attachment_names)]
        if fingerprint(findings, outbound_texts(preview.spec, draft)) != state.phi_ack:
            draft = draft.model_copy(update={"phi_action": PhiAction.BLOCK})
    try:
        result = c.escalations.escalate(draft, idempotency_key=state.idempotency_key)
    except DraftRejected as exc:  # PhiBlocked too: the form shows the findings again, highlighted
        _fresh_key_after_failure(c, state)
        return _form(request, c, ticket_id, caller, session, state, show_errors=True, status_code=exc.status,
                     extra_problems=exc.problems, alert=exc.message)
    except EscalinkError as exc:
        # Zendesk or Jira refused or is down, or the ticket has an unfinished escalation: the form stays as
        # typed, with the reason on top, so the agent loses nothing.
        _fresh_key_after_failure(c, state)
        return _form(request, c, ticket_id, caller, session, state, show_errors=True, status_code=exc.status,
                     extra_problems=exc.problems, alert=error_alert(exc))
    hold = c.escalations.options.hold_after_escalation
    queued = result.state in QUEUED_STATES
    return page(request, "escalate_result.html", status_code=202 if queued else 201,
                **_shell(c, ticket_id, caller), result=result, steps=result_steps(result, hold), queued=queued,
                moved_to_note=draft.phi_action is PhiAction.MOVE_TO_NOTE and result.phi_findings > 0)
