"""The "Linked issues" panel: each linked Jira issue as Jira shows it now, its details on demand, the
receipts of the notifications sent to it (with Retry for a failed one), and linking by key.

Everything here reads the agent from the session; linking and unlinking are audited by the link
service itself. A Jira error shows on the card it concerns: the other links stay usable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse

from escalink.bootstrap import Container
from escalink.domain.draft import Problem
from escalink.domain.errors import Conflict, EscalinkError, NotFound
from escalink.policy.schema import Policy
from escalink.ports.store import LinkRecord
from escalink.ports.sync_store import DeliveryRecord
from escalink.services.notify_text import REASONS, ref_of
from escalink.services.roles import Caller
from escalink.web.deps import container
from escalink.web.ui.deps import current_caller, page, templates

router = APIRouter(prefix="/app", include_in_schema=False)

RECEIPTS_PER_LINK = 10
DETAIL_COMMENTS = 3
REASON_CHARS = 140
ONE_PER_TICKET = "one_jira_per_ticket"
# What the guide says when the policy file carries no wording of its own.
ONE_PER_TICKET_FALLBACK = ("Best practice is one Jira issue per Zendesk ticket: comments sent with Notify go to ALL "
                           "linked issues.")
ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+")
STATE_LABELS = {"sent": "Sent", "failed": "Failed", "pending": "Pending", "retrying": "Retrying"}
ISSUE = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class FileReceipt:
    """What became of one chosen file on one issue."""

    name: str
    outcome: str  # attached, linked (sent as its Zendesk address) or pending
    reason: str | None


@dataclass(frozen=True, slots=True)
class Receipt:
    """One issue's receipt for one notification, as the sidebar shows it."""

    id: int
    ticket_id: int
    key: str
    state: str
    ref: str
    reason: str | None
    attempts: int
    updated_at: datetime
    files: tuple[FileReceipt, ...]

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state, self.state.capitalize())

    @property
    def can_retry(self) -> bool:
        return self.state == "failed"


def receipt(d: DeliveryRecord) -> Receipt:
    reason = None
    if d.error and d.state != "sent":
        reason = d.error if len(d.error) <= REASON_CHARS else d.error[:REASON_CHARS - 1].rstrip() + "…"
    files = tuple(FileReceipt(str(x.get("file_name", "")), str(x.get("outcome", "")),
                              REASONS.get(str(x.get("reason")), None) if x.get("reason") else None)
                  for x in d.details)
    return Receipt(d.id, d.ticket_id, d.jira_key, d.state, ref_of(d.notification_id), reason, d.attempts,
                   d.updated_at, files)


def sent_headline(receipts: list[Receipt]) -> str:
    """One notification's outcome in a line, from its receipts (one per issue)."""
    sent = sum(r.state == "sent" for r in receipts)
    failed = sum(r.state == "failed" for r in receipts)
    if receipts and sent == len(receipts):
        return f"Sent to {receipts[0].key}" if len(receipts) == 1 else f"Sent to all {len(receipts)} issues"
    if failed == len(receipts):
        return "Not delivered: Jira did not take the comment"
    if failed:
        return f"Sent to {sent} of {len(receipts)} issues; {failed} failed"
    # Jobs that outlived the wait go on in the background; their receipts turn Sent or Failed.
    return f"Sent to {sent} of {len(receipts)} issues so far; the rest are still being sent"


@dataclass(frozen=True, slots=True)
class LinkCard:
    """One linked issue as its card shows it; `error` instead of the live fields when Jira could not say."""

    key: str
    issue_id: str
    url: str
    summary: str | None
    status: str | None
    priority: str | None
    assignee: str | None
    updated: str | None
    error: str | None
    receipts: list[Receipt]
    older: int


def one_per_ticket_text(policy: Policy) -> str:
    """The policy's own words for the one-issue-per-ticket best practice."""
    return next((b.text for b in policy.best_practices if b.id == ONE_PER_TICKET), ONE_PER_TICKET_FALLBACK)


def moment(value: datetime | str | None) -> datetime | None:
    """A stored datetime (naive ones are UTC) or a Jira timestamp, aware; None when unreadable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def ago(value: datetime | str | None, now: datetime | None = None) -> str:
    """"just now", "5 min ago", "3 h ago", "2 days ago", then the date."""
    when = moment(value)
    if when is None:
        return "" if value is None else str(value)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days > 1 else ''} ago"
    return when.strftime("%Y-%m-%d")


def isotime(value: datetime | str | None) -> str:
    when = moment(value)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""


def cards(c: Container, ticket_id: int) -> list[LinkCard]:
    """The ticket's links with live Jira details (briefly cached) and their newest receipts."""
    by_issue: dict[str, list[Receipt]] = {}
    for d in reversed(c.store.deliveries_for_ticket(ticket_id)):
        by_issue.setdefault(d.jira_issue_id, []).append(receipt(d))
    out = []
    for item in c.links.for_ticket(ticket_id):
        v, link = item.issue, item.link
        mine = by_issue.get(link.jira_issue_id, [])
        out.append(LinkCard(
            key=v.key if v else link.jira_key, issue_id=link.jira_issue_id,
            url=v.url if v else c.tracker.issue_url(link.jira_key), summary=v.summary if v else None,
            status=v.status if v else None, priority=v.priority if v else None,
            assignee=v.assignee if v else None, updated=v.updated if v else None, error=item.error,
            receipts=mine[:RECEIPTS_PER_LINK], older=max(0, len(mine) - RECEIPTS_PER_LINK),
        ))
    return out


def links_page(request: Request, c: Container, ticket_id: int, caller: Caller, status_code: int = 200,
               **extra: Any) -> HTMLResponse:
    found = cards(c, ticket_id)
    return page(request, "links.html", status_code=status_code, ticket_id=ticket_id, caller=caller, tab="links",
                zendesk_ticket_url=c.helpdesk.ticket_url(ticket_id), cards=found,
                best_practice=one_per_ticket_text(c.policy) if len(found) > 1 else None, **extra)


def linked(c: Container, ticket_id: int, issue: str) -> LinkRecord:
    """The ticket's link to `issue` (key or id): the sidebar reads only issues linked to the ticket."""
    wanted = issue.strip().upper()
    found = next((lk for lk in c.store.links_for_ticket(ticket_id)
                  if wanted in (lk.jira_issue_id, lk.jira_key.upper())), None)
    if found is None:
        raise NotFound(f"{issue} is not linked to ticket #{ticket_id}.",
                       problems=[Problem("issue", "not_linked", f"{issue} is not linked to this ticket.")])
    return found


@router.get("/tickets/{ticket_id}/links", response_class=HTMLResponse)
def links_panel(request: Request, ticket_id: int = Path(gt=0), caller: Caller = Depends(current_caller),
                c: Container = Depends(container)) -> HTMLResponse:
    """The linked issues of the ticket, each with its receipts; the 1:1 warning when there are several."""
    return links_page(request, c, ticket_id, caller)


@router.get("/tickets/{ticket_id}/links/{issue}/details", response_class=HTMLResponse)
def link_details(request: Request, ticket_id: int = Path(gt=0), issue: str = ISSUE,
                 caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Description and latest comments of one linked issue, read from Jira now."""
    link = linked(c, ticket_id, issue)
    try:
        details = c.tracker.issue_details(link.jira_issue_id, comments=DETAIL_COMMENTS)
    except EscalinkError as exc:
        # Shown in the card's details region, not as a broken page.
        return page(request, "link_details.html", status_code=exc.status, ticket_id=ticket_id, key=link.jira_key,
                    url=c.tracker.issue_url(link.jira_key), error=exc.message, details=None)
    return page(request, "link_details.html", ticket_id=ticket_id, key=details.issue.key or link.jira_key,
                url=details.issue.url, details=details, error=None)


@router.post("/tickets/{ticket_id}/deliveries/{delivery_id}/retry", response_class=HTMLResponse)
def retry_delivery(request: Request, ticket_id: int = Path(gt=0), delivery_id: int = Path(gt=0),
                   summary: Annotated[str, Form()] = "", caller: Caller = Depends(current_caller),
                   c: Container = Depends(container)) -> HTMLResponse:
    """Send one failed receipt again; answers with the receipt as it stands afterwards. From the Notify
    panel (`summary=notify`) the answer also carries that send's headline, recounted, to swap in place."""
    try:
        d = c.notify.retry(ticket_id, delivery_id)
    except Conflict as exc:
        current = c.store.get_delivery(delivery_id)
        if current is None or current.ticket_id != ticket_id:
            raise
        return page(request, "_receipt.html", status_code=409, r=receipt(current), note=exc.message, retried=True)
    headline = None
    if summary == "notify":
        same = [receipt(x) for x in c.store.deliveries_for_ticket(ticket_id) if x.notification_id == d.notification_id]
        headline = sent_headline(same)
    return page(request, "_receipt.html", r=receipt(d), note=None, headline=headline, retried=True)


@router.post("/tickets/{ticket_id}/links", response_class=HTMLResponse)
def link_issue(request: Request, ticket_id: int = Path(gt=0), issue: Annotated[str, Form()] = "",
               caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Link an existing Jira issue by its key (ESCA-12) or id."""
    wanted = issue.strip()
    if not ISSUE_KEY.fullmatch(wanted) or len(wanted) > 64:
        return links_page(request, c, ticket_id, caller, status_code=422, link_value=wanted,
                          link_error="Enter a Jira issue key such as ESCA-12.")
    try:
        out = c.linking.link(ticket_id, wanted)
    except EscalinkError as exc:
        return links_page(request, c, ticket_id, caller, status_code=exc.status, link_value=wanted,
                          link_error=exc.message)
    said = f"{out.issue.key} is linked to this ticket." if out.created else f"{out.issue.key} was linked already."
    return links_page(request, c, ticket_id, caller, message=said)


@router.post("/tickets/{ticket_id}/links/{issue}/unlink", response_class=HTMLResponse)
def unlink_issue(request: Request, ticket_id: int = Path(gt=0), issue: str = ISSUE,
                 caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """Remove the link (Jira is not changed); its receipts stay in the audit trail."""
    gone = c.linking.unlink(ticket_id, issue)
    return links_page(request, c, ticket_id, caller, message=f"{gone.jira_key} is no longer linked to this ticket. "
                      "Jira was not changed.")


templates.env.filters["ago"] = ago
templates.env.filters["isotime"] = isotime
