"""ZendeskHelpdesk: the Helpdesk port over the Zendesk Support REST API (v2)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from escalink.adapters.http import Clock, Sleep, VendorHTTP, VendorProfile, utc_now
from escalink.config import Settings
from escalink.domain.errors import VendorUnavailable
from escalink.domain.records import AgentProfile, Attachment, Comment, TicketUpdate

PAGE_SIZE = 100  # Zendesk's maximum for comments
MAX_PAGES = 60  # a ticket holds at most 5000 comments: 50 pages, plus room
MAX_REDIRECTS = 5

PROFILE = VendorProfile(
    key="zendesk",
    display_name="Zendesk",
    credentials_hint=(
        "ask an admin to check Escalink's Zendesk credentials (ESCALINK_ZENDESK_EMAIL and "
        "ESCALINK_ZENDESK_API_TOKEN)"
    ),
)


@dataclass(frozen=True, slots=True)
class Ticket:
    """The few ticket properties Escalink reads."""

    id: int
    subject: str
    status: str
    tags: tuple[str, ...] = ()


class ZendeskHelpdesk:
    """Reads ticket comments and attachments and writes Escalink's internal notes.

    Implements ports.helpdesk.Helpdesk; raises domain errors only.
    """

    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> ZendeskHelpdesk:
        """Build from Settings; `transport` lets tests answer in place of Zendesk."""
        # API tokens authenticate as "{email}/token" with the token as password.
        auth = httpx.BasicAuth(
            f"{settings.zendesk_email}/token", settings.zendesk_api_token.get_secret_value()
        )
        http = VendorHTTP.from_settings(
            settings, settings.zendesk_url, profile=PROFILE, auth=auth, transport=transport, sleep=sleep, clock=clock
        )
        return cls(http)

    def close(self) -> None:
        self.http.close()

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.http.base_url}/agent/tickets/{ticket_id}"

    def get_ticket(self, ticket_id: int) -> Ticket:
        body = self.http.get_json(f"/api/v2/tickets/{ticket_id}")
        raw = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise _unreadable()
        return Ticket(
            id=int(raw.get("id", ticket_id)),
            subject=str(raw.get("subject") or ""),
            status=str(raw.get("status") or ""),
            tags=tuple(str(t) for t in raw.get("tags") or ()),
        )

    def get_agent(self, user_id: int) -> AgentProfile:
        body = self.http.get_json(f"/api/v2/users/{user_id}")
        raw = body.get("user") if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise _unreadable()
        # The documented per-user path of List Memberships; an agent belongs to a handful of groups.
        listing = self.http.get_json(f"/api/v2/users/{user_id}/group_memberships")
        memberships = listing.get("group_memberships") if isinstance(listing, dict) else None
        groups = tuple(int(m["group_id"]) for m in memberships or [] if isinstance(m, dict) and "group_id" in m)
        return AgentProfile(id=int(raw.get("id", user_id)), email=str(raw.get("email") or ""),
                            name=str(raw.get("name") or ""), group_ids=groups)

    def list_comments(self, ticket_id: int) -> list[Comment]:
        """All comments, oldest first; inline images appear as attachments with `inline=True`."""
        comments: list[Comment] = []
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments"
        params: dict[str, Any] | None = {"include_inline_images": "true", "page[size]": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            body = self.http.get_json(url, params=params)
            if not isinstance(body, dict):
                raise _unreadable()
            comments += [_comment(raw) for raw in body.get("comments") or [] if isinstance(raw, dict)]
            url, params = _next_page(body), None  # next-page links already carry every parameter
        return comments

    def download_attachment(self, content_url: str) -> bytes:
        """The attachment's bytes.

        Zendesk content URLs answer with a redirect to a file host on another domain
        (a CDN with a signed, short-lived URL). Redirects are followed one by one so
        that Escalink's Zendesk credentials are only sent to the configured Zendesk
        host: the CDN needs none, and must never receive them.
        """
        url = content_url
        for _ in range(MAX_REDIRECTS + 1):
            response = self.http.request("GET", url, authenticated=self.http.is_own_host(url))
            if not response.is_redirect:
                return response.content
            location = response.headers.get("Location")
            if not location:
                break
            url = urljoin(str(response.url), location)
        raise VendorUnavailable(
            "Zendesk sent the attachment through too many redirects; try again later, or copy the file "
            "by hand.",
            vendor=PROFILE.key,
        )

    def update_ticket(self, ticket_id: int, update: TicketUpdate) -> None:
        """Note, status, tags and custom fields in ONE request (one audit, one rate-limit unit)."""
        ticket: dict[str, Any] = {}
        if update.internal_note.strip():
            ticket["comment"] = {"body": update.internal_note, "public": False}
        if update.status:
            ticket["status"] = update.status
        if update.add_tags:
            # `additional_tags` adds to the ticket's tags; `tags` would replace them all.
            # Zendesk accepts it on ticket updates although its OpenAPI document omits it.
            ticket["additional_tags"] = list(update.add_tags)
        if update.custom_fields:
            ticket["custom_fields"] = [
                {"id": fid, "value": value} for fid, value in update.custom_fields.items()
            ]
        if not ticket:
            return
        # Not idempotent: repeating it after a lost answer would add the note twice.
        self.http.request(
            "PUT", f"/api/v2/tickets/{ticket_id}", json={"ticket": ticket}, idempotent="comment" not in ticket
        )


def _next_page(body: dict[str, Any]) -> str | None:
    """The next page's URL under cursor pagination (`meta.has_more`, `links.next`) or offset (`next_page`)."""
    meta, links = body.get("meta"), body.get("links")
    if isinstance(meta, dict) and "has_more" in meta:
        nxt = links.get("next") if isinstance(links, dict) else None
        return _documented_path(str(nxt)) if meta.get("has_more") and nxt else None
    nxt = body.get("next_page")
    return _documented_path(str(nxt)) if nxt else None


def _documented_path(url: str) -> str:
    # Zendesk's next-page links end in ".json" (".../comments.json?page[after]=..."); the API
    # answers the same without it, and the documented path has none.
    parsed = httpx.URL(url)
    if parsed.path.endswith(".json"):
        parsed = parsed.copy_with(path=parsed.path.removesuffix(".json"))
    return str(parsed)


def _attachment(raw: dict[str, Any]) -> Attachment:
    return Attachment(
        id=int(raw["id"]),
        file_name=str(raw.get("file_name") or f"attachment-{raw['id']}"),
        content_url=str(raw.get("content_url") or ""),
        content_type=str(raw.get("content_type") or "application/octet-stream"),
        size=int(raw.get("size") or 0),
        inline=bool(raw.get("inline", False)),
    )


def _comment(raw: dict[str, Any]) -> Comment:
    author = raw.get("author_id")
    body = raw.get("body")
    return Comment(
        id=int(raw["id"]),
        author_id=int(author) if author is not None else None,
        body=str(body if body is not None else raw.get("plain_body") or ""),
        public=bool(raw.get("public", False)),
        created_at=str(raw.get("created_at") or ""),
        attachments=tuple(
            _attachment(a) for a in raw.get("attachments") or [] if isinstance(a, dict) and "id" in a
        ),
    )


def _unreadable() -> VendorUnavailable:
    return VendorUnavailable(
        "Zendesk answered with something Escalink cannot read; try again in a few minutes.",
        vendor=PROFILE.key,
    )
