"""The "Notify" panel: send a comment and chosen ticket attachments to the ticket's linked issues.

Comments go to ALL linked issues; only Tier 2 (and admins) may pick one. A Tier 1 agent may instead hand
a single-issue request to Tier 2. The agent is whoever the session says, never a form field. When the PHI
guard refuses the text, the form comes back with the flagged spans marked and three ways forward: replace
them with labels (Redact), keep them in a Zendesk internal note, or send as written with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse

from escalink.bootstrap import Container
from escalink.domain.draft import PhiAction, Problem
from escalink.domain.errors import DraftRejected, EscalinkError
from escalink.domain.phi import FieldFinding, PhiBlocked
from escalink.domain.records import Attachment, Comment
from escalink.ports.sync_store import HandoffRecord
from escalink.services.notify import NotifyCommand, NotifyResult
from escalink.services.notify_text import COMMENT_FIELD, file_field, human_size
from escalink.services.phi_guard import PhiGuard
from escalink.services.roles import Caller, NotAllowed, Role
from escalink.web.deps import container
from escalink.web.ui.deps import current_caller, page
from escalink.web.ui.links import Receipt, receipt, sent_headline

router = APIRouter(prefix="/app", include_in_schema=False)

COMMENT_MAX = 30_000
REASON_MAX = 500
REASON_MIN = 10  # the PHI guard's own minimum for an override reason
TARGETS = ("all", "one", "handoff")


@dataclass(slots=True)
class NotifyForm:
    """What the form holds; re-rendered as typed whenever the agent has to act again."""

    comment: str = ""
    attachment_ids: list[str] = field(default_factory=list)
    target: str = "all"
    target_issue: str = ""
    phi_override_reason: str = ""

    def ids(self) -> list[int]:
        return [int(x) for x in dict.fromkeys(self.attachment_ids) if x.isdigit()]

    def problems(self) -> list[Problem]:
        out = [Problem(f"attachment_ids[{i}]", "invalid", "Not an attachment of this ticket.")
               for i, x in enumerate(self.attachment_ids) if not x.isdigit()]
        if len(self.comment) > COMMENT_MAX:
            out.append(Problem("comment", "too_long", f"At most {COMMENT_MAX} characters."))
        if self.target not in TARGETS:
            out.append(Problem("target", "invalid", "Choose all linked issues or one issue."))
        if self.target in ("one", "handoff") and not self.target_issue.strip():
            out.append(Problem("target_issue", "required", "Choose the issue."))
        if len(self.phi_override_reason) > REASON_MAX:
            out.append(Problem("phi_override_reason", "too_long", f"At most {REASON_MAX} characters."))
        return out


def form_fields(
    comment: Annotated[str, Form()] = "", attachment_ids: Annotated[list[str] | None, Form()] = None,
    target: Annotated[str, Form()] = "all", target_issue: Annotated[str, Form()] = "",
    phi_override_reason: Annotated[str, Form()] = "",
) -> NotifyForm:
    """Every field is read as text and checked here, so a bad value re-renders the form instead of a JSON error."""
    return NotifyForm(comment.replace("\r\n", "\n").strip(), [a.strip() for a in attachment_ids or []], target.strip(),
                      target_issue.strip(), phi_override_reason.strip())


@dataclass(frozen=True, slots=True)
class FileChoice:
    """One attachment of the ticket in the picker."""

    id: int
    name: str
    size: str
    inline: bool


@dataclass(slots=True)
class PhiState:
    """The guard's findings on what the agent tried to send, for marking them in the form."""

    comment: list[FieldFinding]
    files: list[tuple[str, list[FieldFinding]]]  # flagged file names with their spans


@dataclass(frozen=True, slots=True)
class ResultView:
    """What one send did, for the status region above the form."""

    state: str
    headline: str
    ref: str | None
    receipts: list[Receipt]
    notes: list[str]


@dataclass(frozen=True, slots=True)
class PendingHandoff:
    """A Tier 1 request waiting for Tier 2 on this ticket: what will be sent, and where."""

    id: int
    requested_by: str
    key: str
    body: str
    files: int


def _pending(c: Container, ticket_id: int, keys: dict[str, str]) -> list[PendingHandoff]:
    found: list[HandoffRecord] = c.store.handoffs(status="pending", ticket_id=ticket_id)
    return [PendingHandoff(h.id, h.requested_by, keys.get(h.target_issue_id, h.target_issue_id), h.body,
                           len(h.attachment_ids)) for h in found]


def _ticket_files(comments: Sequence[Comment]) -> list[FileChoice]:
    seen: dict[int, Attachment] = {a.id: a for cm in comments for a in cm.attachments}
    return [FileChoice(a.id, a.file_name, human_size(a.size), a.inline) for a in seen.values()]


def _phi_state(findings: Sequence[FieldFinding], form: NotifyForm, files: Sequence[FileChoice]) -> PhiState:
    names = {f.id: f.name for f in files}
    order = form.ids()  # the service checks file names in the order they were chosen
    flagged: list[tuple[str, list[FieldFinding]]] = []
    for i, aid in enumerate(order):
        spans = [f for f in findings if f.field == file_field(i)]
        if spans and aid in names:
            flagged.append((names[aid], spans))
    return PhiState([f for f in findings if f.field == COMMENT_FIELD], flagged)


def _scan(guard: PhiGuard, form: NotifyForm, files: Sequence[FileChoice]) -> list[FieldFinding]:
    """The same texts the service checks: the comment, then each chosen file name."""
    names = {f.id: f.name for f in files}
    texts = {COMMENT_FIELD: form.comment} if form.comment else {}
    texts.update({file_field(i): names[aid] for i, aid in enumerate(form.ids()) if aid in names})
    return guard.scan_texts(texts)


def _result_view(r: NotifyResult, keys: dict[str, str]) -> ResultView:
    receipts = [receipt(d) for d in r.deliveries]
    notes = [w.message for w in r.warnings]
    if r.state == "handed_off" and r.handoff is not None:
        key = keys.get(r.handoff.target_issue_id, r.handoff.target_issue_id)
        return ResultView(r.state, "Handed off to Tier 2: nothing was sent yet", None, [], [
            f"Hand-off #{r.handoff.id}: Tier 2 will send this comment to the one issue you chose ({key}). "
            "An internal note on the ticket says so.", *notes])
    headline = sent_headline(receipts)
    if r.phi_findings:
        notes.append(f"{r.phi_findings} possible PHI span{'s' if r.phi_findings > 1 else ''} handled as you chose.")
    return ResultView(r.state, headline, r.ref, receipts, notes)


def _render(request: Request, c: Container, ticket_id: int, caller: Caller, form: NotifyForm | None = None,
            status_code: int = 200, problems: Sequence[Problem] = (), comments: list[Comment] | None = None,
            **extra: Any) -> HTMLResponse:
    links = c.store.links_for_ticket(ticket_id)
    files_error = None
    if comments is None and links:
        try:
            comments = c.helpdesk.list_comments(ticket_id)
        except EscalinkError as exc:
            files_error = exc.message
    files = _ticket_files(comments or [])
    errors: dict[str, list[str]] = {}
    for p in problems:
        name = "attachment_ids" if p.field.startswith("attachment_ids") else p.field
        errors.setdefault(name, []).append(p.message)
    known = {"comment", "attachment_ids", "target", "target_issue", "phi_override_reason"}
    general = [m for name, msgs in errors.items() if name not in known for m in msgs]
    tier2 = caller.at_least(Role.TIER2)
    handoffs = _pending(c, ticket_id, {lk.jira_issue_id: lk.jira_key for lk in links}) if tier2 and links else []
    phi = extra.pop("phi", None)
    if phi == "rescan":
        # The override was refused for its reason: the text is still flagged, so keep showing where.
        phi = _scan(c.guard, form or NotifyForm(), files)
    if isinstance(phi, list):
        phi = _phi_state(phi, form or NotifyForm(), files)
    return page(request, "notify.html", status_code=status_code, ticket_id=ticket_id, caller=caller, tab="notify",
                zendesk_ticket_url=c.helpdesk.ticket_url(ticket_id), links=links, files=files,
                files_error=files_error, form=form or NotifyForm(), errors=errors, general=general, phi=phi,
                tier2=tier2, handoffs=handoffs, reason_min=REASON_MIN, **extra)


@router.get("/tickets/{ticket_id}/notify", response_class=HTMLResponse)
def notify_panel(request: Request, ticket_id: int = Path(gt=0), caller: Caller = Depends(current_caller),
                 c: Container = Depends(container)) -> HTMLResponse:
    """The empty form (or, without linked issues, where to create or link one)."""
    return _render(request, c, ticket_id, caller)


@router.post("/tickets/{ticket_id}/notify", response_class=HTMLResponse)
def notify_send(request: Request, ticket_id: int = Path(gt=0), form: NotifyForm = Depends(form_fields),
                phi_action: Annotated[str, Form()] = "", caller: Caller = Depends(current_caller),
                c: Container = Depends(container)) -> HTMLResponse:
    """Send (or hand off); answers with the receipts, or the form again with what must change."""
    problems = form.problems()
    action = PhiAction.BLOCK
    if phi_action:
        if phi_action not in {a.value for a in PhiAction}:
            problems.append(Problem("phi_action", "invalid", "Choose how to handle the flagged text."))
        else:
            action = PhiAction(phi_action)
    if problems:
        return _render(request, c, ticket_id, caller, form, 422, problems)
    single = form.target in ("one", "handoff")
    cmd = NotifyCommand(
        ticket_id=ticket_id, caller=caller, comment=form.comment, attachment_ids=tuple(form.ids()),
        target_issue=form.target_issue if single else None, handoff_to_tier2=form.target == "handoff",
        phi_action=action, phi_override_reason=form.phi_override_reason or None,
    )
    try:
        result = c.notify.notify(cmd)
    except PhiBlocked as exc:
        return _render(request, c, ticket_id, caller, form, exc.status, phi=list(exc.findings))
    except NotAllowed:
        raise  # a role the form never offers: the sidebar's 403 page says why
    except DraftRejected as exc:
        rescan = any(p.field == "phi_override_reason" for p in exc.problems)
        return _render(request, c, ticket_id, caller, form, exc.status, exc.problems, phi="rescan" if rescan else None)
    except EscalinkError as exc:
        # Zendesk or Jira could not be reached: nothing was sent, and the agent keeps what they wrote.
        return _render(request, c, ticket_id, caller, form, exc.status, [Problem("ticket", "vendor", exc.message)])
    view = _result_view(result, {lk.jira_issue_id: lk.jira_key for lk in c.store.links_for_ticket(ticket_id)})
    return _render(request, c, ticket_id, caller, None, 202 if result.state == "handed_off" else 201, result=view)


@router.post("/tickets/{ticket_id}/notify/last-comment", response_class=HTMLResponse)
def copy_last_comment(request: Request, ticket_id: int = Path(gt=0), form: NotifyForm = Depends(form_fields),
                      caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Fill the comment with the ticket's latest public comment and tick that comment's files; sends nothing."""
    comments = c.helpdesk.list_comments(ticket_id)
    last = next((cm for cm in reversed(comments) if cm.public), None)
    if last is None:
        return _render(request, c, ticket_id, caller, form, 422, [
            Problem("comment", "no_comment", "The ticket has no public comment to copy.")], comments)
    form.comment = last.body.strip()
    form.attachment_ids = list(dict.fromkeys([*form.attachment_ids, *(str(a.id) for a in last.attachments)]))
    files = len(last.attachments)
    said = "Copied the last public comment of this ticket" + (
        f" and ticked its {files} file{'s' if files > 1 else ''}." if files else ".") + " Check it, then send."
    return _render(request, c, ticket_id, caller, form, 200, (), comments, message=said)


@router.post("/tickets/{ticket_id}/notify/redact", response_class=HTMLResponse)
def redact_comment(request: Request, ticket_id: int = Path(gt=0), form: NotifyForm = Depends(form_fields),
                   caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Replace each flagged span of the comment by its label ([PERSON], ...); sends nothing."""
    findings = c.guard.scan(form.comment, COMMENT_FIELD) if form.comment else []
    if findings:
        form.comment = PhiGuard.redacted_preview({COMMENT_FIELD: form.comment}, findings)[COMMENT_FIELD]
    n = len(findings)
    said = (f"Replaced {n} flagged span{'s' if n > 1 else ''} with {'their labels' if n > 1 else 'its label'}. "
            "Check the text, then send.") if n else "Nothing in the comment is flagged any more."
    return _render(request, c, ticket_id, caller, form, message=said)


@router.post("/tickets/{ticket_id}/notify/handoffs/{handoff_id}", response_class=HTMLResponse)
def send_handoff(request: Request, ticket_id: int = Path(gt=0), handoff_id: int = Path(gt=0),
                 caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Tier 2 sends a pending hand-off of this ticket to the one issue the Tier 1 agent chose."""
    if not any(h.id == handoff_id for h in c.store.handoffs(status=None, ticket_id=ticket_id)):
        return _render(request, c, ticket_id, caller, None, 404, [
            Problem("handoff_id", "not_found", f"Ticket #{ticket_id} has no hand-off #{handoff_id}.")])
    try:
        result = c.notify.send_handoff(handoff_id, caller)
    except NotAllowed:
        raise  # the card is only shown to Tier 2: the sidebar's 403 page says why
    except PhiBlocked as exc:
        labels = ", ".join(sorted({f.label for f in exc.findings}))
        return _render(request, c, ticket_id, caller, None, exc.status, [Problem("handoff_id", "phi", (
            f"Hand-off #{handoff_id} was not sent: its text is flagged as possible PHI ({labels}). "
            "Send the comment yourself with the form below, where you can redact it or move it to a note."))])
    except EscalinkError as exc:
        return _render(request, c, ticket_id, caller, None, exc.status, [Problem("handoff_id", "vendor", exc.message)])
    view = _result_view(result, {lk.jira_issue_id: lk.jira_key for lk in c.store.links_for_ticket(ticket_id)})
    return _render(request, c, ticket_id, caller, None, 201, result=view)
