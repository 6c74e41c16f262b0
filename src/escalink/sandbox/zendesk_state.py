"""In-memory state of the emulated Zendesk account (tickets, comments, attachments, users)."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ZUser:
    """A Zendesk user: agents (who may use the API) and end users (members)."""

    id: int
    name: str
    email: str
    role: str = "end-user"  # "agent" | "admin" | "end-user"
    group_ids: list[int] = field(default_factory=list)  # agents' groups (group memberships)

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/users/{self.id}.json",
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "active": True,
            "verified": True,
            "time_zone": "UTC",
            "locale": "en-US",
            "created_at": "2024-01-02T09:00:00Z",
            "updated_at": "2024-01-02T09:00:00Z",
        }


@dataclass
class ZAttachment:
    id: int
    file_name: str
    content_type: str
    data: bytes
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    inline: bool = False

    def to_json(self, base_url: str) -> dict[str, Any]:
        # content_url points at this emulator; the real one is a token URL on the account host.
        url = f"{base_url}/attachments/token/{self.token}/?name={self.file_name}"
        return {
            "id": self.id,
            "url": f"{base_url}/api/v2/attachments/{self.id}.json",
            "file_name": self.file_name,
            "content_url": url,
            "mapped_content_url": url,
            "content_type": self.content_type,
            "size": len(self.data),
            "width": None,
            "height": None,
            "inline": self.inline,
            "deleted": False,
            "malware_access_override": False,
            "malware_scan_result": "malware_not_found",
            "thumbnails": [],
        }


@dataclass
class ZComment:
    id: int
    author_id: int
    body: str
    html_body: str
    public: bool
    created_at: str
    attachment_ids: list[int] = field(default_factory=list)

    def to_json(self, state: ZendeskState, base_url: str, include_inline: bool) -> dict[str, Any]:
        atts = [state.attachments[i] for i in self.attachment_ids]
        return {
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "audit_id": self.id + 1,
            "created_at": self.created_at,
            "attachments": [a.to_json(base_url) for a in atts if include_inline or not a.inline],
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
        }


@dataclass
class ZTicket:
    id: int
    subject: str
    requester_id: int
    status: str = "open"
    priority: str | None = "normal"
    assignee_id: int | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[int, Any] = field(default_factory=dict)
    comments: list[ZComment] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def to_json(self, base_url: str) -> dict[str, Any]:
        # The spec types assignee_id/priority as non-nullable; leave them out when unset.
        data = {
            "id": self.id,
            "url": f"{base_url}/api/v2/tickets/{self.id}.json",
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.comments[0].body if self.comments else "",
            "status": self.status,
            "priority": self.priority,
            "type": "incident",
            "requester_id": self.requester_id,
            "submitter_id": self.requester_id,
            "assignee_id": self.assignee_id,
            "tags": list(self.tags),
            "custom_fields": [{"id": k, "value": v} for k, v in sorted(self.custom_fields.items())],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "is_public": any(c.public for c in self.comments),
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        }
        return {k: v for k, v in data.items() if v is not None}


class RecordInvalid(Exception):
    """Zendesk's 422 RecordInvalid: a field-level validation failure."""

    def __init__(self, field_name: str, description: str) -> None:
        super().__init__(description)
        self.field_name = field_name
        self.description = description


@dataclass
class ZendeskState:
    """Everything the emulated account holds. Mutate only while holding `lock`."""

    api_token: str = field(default_factory=lambda: secrets.token_hex(16))
    users: dict[int, ZUser] = field(default_factory=dict)
    tickets: dict[int, ZTicket] = field(default_factory=dict)
    attachments: dict[int, ZAttachment] = field(default_factory=dict)
    uploads: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 1000

    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def bump_ids(self, at_least: int) -> None:
        """Make sure new ids come after `at_least` (used after seeding fixed ids)."""
        with self.lock:
            self._next_id = max(self._next_id, at_least)

    # -- users --------------------------------------------------------------------------------

    def add_user(self, name: str, email: str, role: str = "end-user", user_id: int | None = None) -> ZUser:
        with self.lock:
            user = ZUser(user_id or self.next_id(), name, email, role)
            self.users[user.id] = user
            return user

    def agent_by_email(self, email: str) -> ZUser | None:
        return next(
            (
                u
                for u in self.users.values()
                if u.email.lower() == email.lower() and u.role in ("agent", "admin")
            ),
            None,
        )

    # -- attachments ----------------------------------------------------------------------------

    def add_attachment(
        self, file_name: str, content_type: str, data: bytes, inline: bool = False
    ) -> ZAttachment:
        with self.lock:
            att = ZAttachment(self.next_id(), file_name, content_type, data, inline=inline)
            self.attachments[att.id] = att
            return att

    def attachment_by_token(self, token: str) -> ZAttachment | None:
        return next((a for a in self.attachments.values() if a.token == token), None)

    def upload(
        self, file_name: str, content_type: str, data: bytes, token: str | None
    ) -> tuple[str, ZAttachment]:
        with self.lock:
            if token is not None and token not in self.uploads:
                raise RecordInvalid("token", "Upload token is not valid")
            token = token or secrets.token_urlsafe(18)
            att = self.add_attachment(file_name, content_type, data)
            self.uploads.setdefault(token, []).append(att.id)
            return token, att

    # -- tickets --------------------------------------------------------------------------------

    def add_ticket(self, subject: str, requester_id: int, status: str = "open", **extra: Any) -> ZTicket:
        with self.lock:
            ticket = ZTicket(self.next_id(), subject, requester_id, status=status, **extra)
            self.tickets[ticket.id] = ticket
            return ticket

    def add_comment(
        self,
        ticket: ZTicket,
        author_id: int,
        body: str,
        public: bool = True,
        html_body: str | None = None,
        attachment_ids: list[int] | None = None,
        created_at: str | None = None,
    ) -> ZComment:
        with self.lock:
            comment = ZComment(
                self.next_id(),
                author_id,
                body,
                html_body if html_body is not None else f'<div class="zd-comment"><p>{body}</p></div>',
                public,
                created_at or now_iso(),
                list(attachment_ids or []),
            )
            ticket.comments.append(comment)
            ticket.updated_at = comment.created_at
            return comment

    def update_ticket(self, ticket: ZTicket, author_id: int, data: dict[str, Any]) -> None:
        """Apply one `PUT /api/v2/tickets/{id}` body (`data` is the `ticket` object)."""
        with self.lock:
            if ticket.status == "closed":
                raise RecordInvalid("status", "Status: closed prevents ticket update")
            comment = data.get("comment")
            uploads: list[int] = []
            if isinstance(comment, dict):
                for token in comment.get("uploads") or []:
                    if token not in self.uploads:
                        raise RecordInvalid("uploads", f"Upload token {token!r} is not valid")
                    uploads.extend(self.uploads[token])
                body = comment.get("body") or comment.get("html_body") or ""
                if not body.strip() and not uploads:
                    raise RecordInvalid("comment", "Comment: body can't be blank")
            if "status" in data:
                if data["status"] not in STATUSES:
                    raise RecordInvalid("status", "Status: is not valid")
                ticket.status = data["status"]
            if "tags" in data:
                ticket.tags = _unique(data["tags"] or [])
            for tag in data.get("additional_tags") or []:
                if tag not in ticket.tags:
                    ticket.tags.append(tag)
            for tag in data.get("remove_tags") or []:
                if tag in ticket.tags:
                    ticket.tags.remove(tag)
            for pair in data.get("custom_fields") or []:
                ticket.custom_fields[int(pair["id"])] = pair.get("value")
            if "priority" in data:
                ticket.priority = data["priority"]
            if "subject" in data:
                ticket.subject = data["subject"]
            if isinstance(comment, dict):
                for token in comment.get("uploads") or []:
                    self.uploads.pop(token, None)
                self.add_comment(
                    ticket,
                    int(comment.get("author_id") or author_id),
                    comment.get("body") or _strip_html(comment.get("html_body") or ""),
                    public=bool(comment.get("public", True)),
                    html_body=comment.get("html_body"),
                    attachment_ids=uploads,
                )
            ticket.updated_at = now_iso()


def _unique(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _strip_html(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()
