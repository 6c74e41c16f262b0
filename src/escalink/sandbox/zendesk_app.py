"""Emulated Zendesk Support API: the few endpoints Escalink uses, answered in Zendesk's shapes.

Every request is authenticated (Basic `{email}/token:{api_token}`) and checked against the
official spec subset before a route sees it (see `recorder.SpecGate`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from escalink.sandbox.inspect_routes import add_zendesk_inspect_routes
from escalink.sandbox.recorder import CallRecorder, Rejection, SpecGate, add_sandbox_routes
from escalink.sandbox.zendesk_state import RecordInvalid, ZendeskState, ZTicket, ZUser, now_iso

NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
UNAUTHORIZED = {"error": "Couldn't authenticate you"}


def authenticated_agent(state: ZendeskState, headers: Mapping[str, str]) -> ZUser | None:
    """The agent behind `Authorization: Basic base64(email/token:API_TOKEN)`, if valid."""
    header = headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, _, token = decoded.partition(":")
    email, sep, kind = login.rpartition("/")
    if not sep or kind != "token" or token != state.api_token:
        return None
    return state.agent_by_email(email)


def record_invalid(field_name: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field_name: [{"description": description, "error": "InvalidValue"}]},
        },
        status_code=422,
    )


def _spec_rejection(vendor: str, errors: list[str]) -> Rejection:
    # An unknown status is a spec (enum) violation, but Zendesk itself answers it with a 422
    # RecordInvalid; keep that shape so clients see what production would send.
    if errors and all(e.startswith("body.ticket.status:") for e in errors):
        body = {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {"status": [{"description": "Status: is not valid", "error": "InvalidValue"}]},
        }
        return Rejection(422, body)
    if any(e.startswith("unknown path") for e in errors):
        return Rejection(404, {"error": "InvalidEndpoint", "description": "Not found"})
    body = {
        "error": "InvalidRequest",
        "description": "Request does not match the Zendesk API specification",
        "details": {"base": [{"description": e, "error": "InvalidValue"} for e in errors]},
    }
    return Rejection(400, body)


def create_zendesk_app(state: ZendeskState, recorder: CallRecorder) -> Any:
    """The emulator as an ASGI app (FastAPI wrapped in the spec gate)."""
    app = FastAPI(title="Zendesk sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    add_sandbox_routes(app, recorder)
    add_zendesk_inspect_routes(app, state)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def agent(request: Request) -> ZUser:
        user = authenticated_agent(state, {k.lower(): v for k, v in request.headers.items()})
        assert user is not None  # the gate already refused unauthenticated API calls
        return user

    def ticket_or_404(ticket_id: int) -> ZTicket | None:
        return state.tickets.get(ticket_id)

    @app.get("/api/v2/users/me")
    def users_me(request: Request) -> Any:
        return {"user": agent(request).to_json(base(request))}

    @app.get("/api/v2/users/{user_id}")
    def show_user(request: Request, user_id: int) -> Any:
        with state.lock:
            user = state.users.get(user_id)
            if user is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            return {"user": user.to_json(base(request))}

    @app.get("/api/v2/users/{user_id}/group_memberships")
    def user_group_memberships(request: Request, user_id: int) -> Any:
        with state.lock:
            user = state.users.get(user_id)
            if user is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            memberships = [
                {"id": user.id * 1000 + n, "user_id": user.id, "group_id": g, "default": n == 0,
                 "url": f"{base(request)}/api/v2/group_memberships/{user.id * 1000 + n}.json",
                 "created_at": "2024-01-02T09:00:00Z", "updated_at": "2024-01-02T09:00:00Z"}
                for n, g in enumerate(user.group_ids)
            ]
        return {"group_memberships": memberships, "next_page": None, "previous_page": None,
                "count": len(memberships)}

    @app.get("/api/v2/tickets/show_many")
    def show_many(request: Request, ids: str) -> Any:
        with state.lock:
            wanted = [int(i) for i in ids.split(",") if i.strip().isdigit()]
            found = [state.tickets[i].to_json(base(request)) for i in wanted if i in state.tickets]
        return {"tickets": found, "count": len(found), "next_page": None, "previous_page": None}

    @app.get("/api/v2/tickets/{ticket_id}")
    def show_ticket(request: Request, ticket_id: int) -> Any:
        with state.lock:
            ticket = ticket_or_404(ticket_id)
            if ticket is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            return {"ticket": ticket.to_json(base(request))}

    @app.put("/api/v2/tickets/{ticket_id}")
    async def update_ticket(request: Request, ticket_id: int) -> Any:
        payload = await request.json()
        user = agent(request)
        with state.lock:
            ticket = ticket_or_404(ticket_id)
            if ticket is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            try:
                state.update_ticket(ticket, user.id, payload.get("ticket") or {})
            except RecordInvalid as exc:
                return record_invalid(exc.field_name, exc.description)
            audit = {
                "id": state.next_id(),
                "ticket_id": ticket.id,
                "author_id": user.id,
                "created_at": now_iso(),
                "events": [],
                "metadata": {"system": {}, "custom": {}},
                "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            }
            return {"ticket": ticket.to_json(base(request)), "audit": audit}

    @app.post("/api/v2/tickets")
    async def create_ticket(request: Request) -> Any:
        data = (await request.json()).get("ticket") or {}
        user = agent(request)
        comment = data.get("comment") or {}
        if not (comment.get("body") or comment.get("html_body")):
            return record_invalid("description", "Description: cannot be blank")
        with state.lock:
            ticket = state.add_ticket(
                data.get("subject") or "(no subject)",
                int(data.get("requester_id") or user.id),
                status=data.get("status") or "new",
                tags=list(data.get("tags") or []),
            )
            state.add_comment(
                ticket,
                int(comment.get("author_id") or ticket.requester_id),
                comment.get("body") or "",
                public=bool(comment.get("public", True)),
            )
            body = {"ticket": ticket.to_json(base(request))}
        location = f"{base(request)}/api/v2/tickets/{ticket.id}.json"
        return JSONResponse(body, status_code=201, headers={"Location": location})

    @app.get("/api/v2/tickets/{ticket_id}/comments")
    def list_comments(request: Request, ticket_id: int, include_inline_images: bool = False) -> Any:
        with state.lock:
            ticket = ticket_or_404(ticket_id)
            if ticket is None:
                return JSONResponse(NOT_FOUND, status_code=404)
            # Inline images are part of a comment's body; Zendesk lists them as attachments
            # only when asked to.
            comments = [c.to_json(state, base(request), include_inline_images) for c in ticket.comments]
        return {"comments": comments, "count": len(comments), "next_page": None, "previous_page": None}

    @app.post("/api/v2/uploads")
    async def upload(request: Request, filename: str, token: str | None = None) -> Any:
        data = await request.body()
        content_type = request.headers.get("content-type", "application/octet-stream").split(";")[0]
        try:
            token, att = state.upload(filename, content_type, data, token)
        except RecordInvalid as exc:
            return record_invalid(exc.field_name, exc.description)
        att_json = att.to_json(base(request))
        body = {
            "upload": {
                "token": token,
                "expires_at": "2099-01-01T00:00:00Z",
                "attachment": att_json,
                "attachments": [state.attachments[i].to_json(base(request)) for i in state.uploads[token]],
            }
        }
        return JSONResponse(body, status_code=201)

    @app.get("/api/v2/attachments/{attachment_id}")
    def show_attachment(request: Request, attachment_id: int) -> Any:
        att = state.attachments.get(attachment_id)
        if att is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        return {"attachment": att.to_json(base(request))}

    @app.get("/attachments/token/{token}/")
    def attachment_content(token: str, name: str | None = None) -> Response:
        att = state.attachment_by_token(token)
        if att is None or (name is not None and name != att.file_name):
            return JSONResponse(NOT_FOUND, status_code=404)
        return Response(att.data, media_type=att.content_type)

    def vendor_of(path: str) -> str | None:
        return "zendesk" if path.startswith("/api/") else None

    def auth(vendor: str, headers: Mapping[str, str]) -> Rejection | None:
        if authenticated_agent(state, headers) is None:
            return Rejection(401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="Web Password"'})
        return None

    return SpecGate(app, recorder, vendor_of, auth, _spec_rejection, label="zendesk")
