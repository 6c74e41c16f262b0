"""Sandbox-only routes for harnesses that check the emulators from outside their process.

Read the whole state (`GET /_sandbox/state` on either emulator), create many Zendesk tickets in
one call (`POST /_sandbox/tickets`), and comment on a Jira issue as a person other than Escalink's
account (`POST /_sandbox/issues/{key}/comments`): the REST API always acts as the authenticated
integration user, and a comment by that user is an echo Escalink must ignore.

Routes under `/_sandbox/` skip authentication, the spec check and fault injection (see
`recorder.SpecGate`), so a harness can read and prepare state while faults are on.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from escalink.sandbox.jira_rules import adf_to_text
from escalink.sandbox.jira_state import JiraIssue, JiraState, JiraUser, now_jira
from escalink.sandbox.zendesk_state import ZendeskState, ZTicket

# --- Jira ---------------------------------------------------------------------------------------


class JiraPersonIn(BaseModel):
    """Who comments: added to the Jira directory when not there yet (matched on account id)."""

    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    display_name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class JiraCommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: JiraPersonIn
    body: str = Field(min_length=1)


def _jira_issue(issue: JiraIssue, with_comments: bool) -> dict[str, Any]:
    fields = issue.fields
    out: dict[str, Any] = {
        "id": issue.id,
        "key": issue.key,
        "summary": fields.get("summary"),
        "labels": list(fields.get("labels") or []),
        "status": issue.status,
        "attachments": len(issue.attachments),
        "remote_links": [
            {"global_id": link.get("globalId"), "url": (link.get("object") or {}).get("url")}
            for link in issue.remote_links
        ],
    }
    if with_comments:
        out["comments"] = [
            {
                "id": c["id"],
                "author_account_id": c["author"].account_id,
                "author_name": c["author"].name,
                "body": adf_to_text(c["body"]),
                "created": c["created"],
            }
            for c in issue.comments
        ]
    return out


def jira_snapshot(state: JiraState, with_comments: bool = True) -> dict[str, Any]:
    """Every issue with its labels, remote links and (plain-text) comments, in creation order."""
    with state.lock:
        issues = sorted(state.issues.values(), key=lambda i: int(i.id))
        return {"issues": [_jira_issue(i, with_comments) for i in issues]}


def comment_as(state: JiraState, key: str, comment: JiraCommentIn) -> dict[str, Any] | None:
    """Add a comment by `comment.author` to the issue `key` (id or key); None when there is none."""
    with state.lock:
        issue = state.issue(key)
        if issue is None:
            return None
        who = comment.author
        user = state.user_by(account_id=who.account_id)
        if user is None:
            user = JiraUser(who.account_id, who.name, who.email, who.display_name)
            state.users.append(user)
        stored = {"id": state.next_id(), "author": user, "body": comment.body, "created": now_jira()}
        issue.comments.append(stored)
        state.touch(issue)
        return {"id": stored["id"], "issue_id": issue.id, "issue_key": issue.key, "created": stored["created"]}


def add_jira_inspect_routes(app: FastAPI, state: JiraState) -> None:
    """`GET /_sandbox/state[?comments=false]` and `POST /_sandbox/issues/{key}/comments`."""

    @app.get("/_sandbox/state", include_in_schema=False)
    def jira_state(comments: bool = True) -> dict[str, Any]:
        return jira_snapshot(state, comments)

    @app.post("/_sandbox/issues/{key}/comments", include_in_schema=False)
    def jira_comment(key: str, body: JiraCommentIn) -> Any:
        added = comment_as(state, key, body)
        if added is None:
            return JSONResponse({"error": "no such issue", "issue": key}, status_code=404)
        return JSONResponse(added, status_code=201)


# --- Zendesk ------------------------------------------------------------------------------------


class SeedAttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(min_length=1)
    content_type: str = "text/plain"
    text: str = ""


class SeedCommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author_id: int
    body: str = Field(min_length=1)
    public: bool = True
    attachments: list[SeedAttachmentIn] = Field(default_factory=list)


class SeedTicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1)
    requester_id: int
    status: str = "open"
    tags: list[str] = Field(default_factory=list)
    comments: list[SeedCommentIn] = Field(min_length=1)


class SeedTicketsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[SeedTicketIn] = Field(min_length=1, max_length=5000)


class UnknownUser(ValueError):
    """A seeded ticket names a requester or author the account does not have."""


def seed_tickets(state: ZendeskState, request: SeedTicketsIn) -> list[dict[str, Any]]:
    """Create the tickets (all or none); returns each one's id and its attachments' ids in order."""
    with state.lock:
        for t in request.tickets:
            for user_id in (t.requester_id, *(c.author_id for c in t.comments)):
                if user_id not in state.users:
                    raise UnknownUser(f"no user {user_id}")
        created = []
        for t in request.tickets:
            ticket = state.add_ticket(t.subject, t.requester_id, status=t.status, tags=list(t.tags))
            attachment_ids: list[int] = []
            for c in t.comments:
                ids = [state.add_attachment(a.file_name, a.content_type, a.text.encode()).id for a in c.attachments]
                state.add_comment(ticket, c.author_id, c.body, public=c.public, attachment_ids=ids)
                attachment_ids.extend(ids)
            created.append({"id": ticket.id, "attachment_ids": attachment_ids})
        return created


def _zendesk_ticket(ticket: ZTicket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "tags": list(ticket.tags),
        "comments": [
            {"id": c.id, "author_id": c.author_id, "public": c.public, "body": c.body} for c in ticket.comments
        ],
    }


def zendesk_snapshot(state: ZendeskState, ids: set[int] | None = None) -> dict[str, Any]:
    """Tickets (all, or those in `ids`) with status, tags and every comment, ordered by id."""
    with state.lock:
        tickets = [t for i, t in sorted(state.tickets.items()) if ids is None or i in ids]
        return {"tickets": [_zendesk_ticket(t) for t in tickets]}


def add_zendesk_inspect_routes(app: FastAPI, state: ZendeskState) -> None:
    """`GET /_sandbox/state[?ids=1,2]` and `POST /_sandbox/tickets`."""

    @app.get("/_sandbox/state", include_in_schema=False)
    def zendesk_state(ids: str | None = None) -> Any:
        wanted: set[int] | None = None
        if ids is not None:
            parts = [p.strip() for p in ids.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                return JSONResponse({"error": "ids must be comma-separated ticket ids"}, status_code=400)
            wanted = {int(p) for p in parts}
        return zendesk_snapshot(state, wanted)

    @app.post("/_sandbox/tickets", include_in_schema=False)
    def zendesk_seed(body: SeedTicketsIn) -> Any:
        try:
            created = seed_tickets(state, body)
        except UnknownUser as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"tickets": created}, status_code=201)
