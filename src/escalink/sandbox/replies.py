"""Play Jira and Zendesk webhooks against the sandbox: a Jira answer reaching the Zendesk ticket.

Builds signed deliveries in the shapes Jira Cloud, Jira Data Center and Zendesk send
(Cloud comment events carry the issue, Data Center ones only the comment's URL), so the
demo and tests can answer an escalation as a Jira engineer would. People are fictional.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from escalink.adapters.jira.webhook import DELIVERY_HEADER, jira_signature
from escalink.adapters.jira.webhook import SIGNATURE_HEADER as JIRA_SIGNATURE_HEADER
from escalink.adapters.zendesk.webhook import SIGNATURE_HEADER as ZENDESK_SIGNATURE_HEADER
from escalink.adapters.zendesk.webhook import TIMESTAMP_HEADER, zendesk_signature
from escalink.sandbox.stack import Stack
from escalink.services.inbound import ProcessReport


@dataclass(frozen=True, slots=True)
class JiraPerson:
    """Who acts in Jira: `account_id` on Cloud, `name` on Data Center."""

    account_id: str
    name: str
    display_name: str


ENGINEER = JiraPerson("712020:5f0c1e2d3b4a59687a6b5c4d", "jpike", "Jordan Pike")


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    """A delivery ready to POST: `path` on Escalink, raw `body`, and the vendor's headers."""

    path: str
    body: bytes
    headers: dict[str, str]

    def post(self, base_url: str, client: httpx.Client | None = None) -> httpx.Response:
        if client is not None:
            return client.post(self.path, content=self.body, headers=self.headers)
        return httpx.post(base_url.rstrip("/") + self.path, content=self.body, headers=self.headers, timeout=30)


def _user(person: JiraPerson, flavor: str, jira_url: str) -> dict[str, Any]:
    if flavor == "cloud":
        return {"self": f"{jira_url}/rest/api/2/user?accountId={person.account_id}", "accountId": person.account_id,
                "displayName": person.display_name, "active": True, "timeZone": "UTC"}
    return {"self": f"{jira_url}/rest/api/2/user?username={person.name}", "name": person.name, "key": person.name,
            "displayName": person.display_name, "active": True, "timeZone": "UTC"}


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def sign_jira(payload: dict[str, Any], secret: str, delivery_id: str | None = None) -> SignedWebhook:
    """Sign any Jira payload as Jira does; Data Center sends no delivery identifier (pass None)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", JIRA_SIGNATURE_HEADER: jira_signature(secret.encode(), body)}
    if delivery_id is not None:
        headers[DELIVERY_HEADER] = delivery_id
    return SignedWebhook("/webhooks/jira", body, headers)


def jira_comment_webhook(
    *, issue_id: str, issue_key: str, text: str, secret: str, flavor: str = "cloud",
    author: JiraPerson = ENGINEER, comment_id: str | None = None, jira_url: str = "https://jira.example.com",
    delivery_id: str | None = None,
) -> SignedWebhook:
    """A signed `comment_created` delivery for an issue, as Cloud or Data Center sends it."""
    now = datetime.now(UTC)
    comment_id = comment_id or str(20000 + uuid.uuid4().int % 70000)
    api = f"{jira_url}/rest/api/2/issue/{issue_id}"
    user = _user(author, flavor, jira_url)
    comment = {"self": f"{api}/comment/{comment_id}", "id": comment_id, "author": user, "body": text,
               "updateAuthor": user, "created": _stamp(now), "updated": _stamp(now)}
    payload: dict[str, Any] = {"timestamp": int(now.timestamp() * 1000), "webhookEvent": "comment_created",
                               "comment": comment}
    if flavor == "cloud":
        # Cloud names the issue in comment events and identifies each delivery; Data Center does neither.
        payload["issue"] = {"id": issue_id, "self": api, "key": issue_key, "fields": {"summary": ""}}
        return sign_jira(payload, secret, delivery_id or str(uuid.uuid4()))
    return sign_jira(payload, secret, delivery_id)


def jira_change_webhook(
    *, issue_id: str, issue_key: str, changes: list[tuple[str, str | None, str | None]], secret: str,
    flavor: str = "cloud", actor: JiraPerson = ENGINEER, jira_url: str = "https://jira.example.com",
    delivery_id: str | None = None, changelog_id: str | None = None,
) -> SignedWebhook:
    """A signed `jira:issue_updated` delivery; `changes` are (field, from, to) display values,
    `changelog_id` the id of the issue's history entry for the change (random when not given)."""
    now = datetime.now(UTC)
    items = [{"field": f, "fieldtype": "jira", "fromString": a, "toString": b} for f, a, b in changes]
    if flavor == "cloud":
        for item in items:
            item["fieldId"] = str(item["field"]).lower()
    payload = {
        "timestamp": int(now.timestamp() * 1000), "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic", "user": _user(actor, flavor, jira_url),
        "issue": {"id": issue_id, "self": f"{jira_url}/rest/api/2/issue/{issue_id}", "key": issue_key,
                  "fields": {"summary": ""}},
        "changelog": {"id": changelog_id or str(uuid.uuid4().int % 100000), "items": items},
    }
    return sign_jira(payload, secret, delivery_id or (str(uuid.uuid4()) if flavor == "cloud" else None))


def zendesk_merge_webhook(
    *, source_ticket_id: int, target_ticket_id: int, secret: str, now: datetime | None = None
) -> SignedWebhook:
    """A signed Zendesk event webhook saying `source_ticket_id` was merged into `target_ticket_id`."""
    when = now or datetime.now(UTC)
    payload = {
        "type": "zen:event-type:ticket.merged", "id": str(uuid.uuid4()), "time": when.isoformat(),
        "subject": f"zen:ticket:{source_ticket_id}", "account_id": 1,
        "detail": {"id": str(source_ticket_id), "status": "CLOSED"},
        "event": {"target_ticket_id": str(target_ticket_id)},
    }
    body = json.dumps(payload).encode()
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
               ZENDESK_SIGNATURE_HEADER: zendesk_signature(secret.encode(), body, stamp)}
    return SignedWebhook("/webhooks/zendesk", body, headers)


def play_jira_reply(
    stack: Stack, ticket_id: int, text: str, *, author: JiraPerson = ENGINEER, process: bool = True
) -> ProcessReport | None:
    """A Jira engineer answers on the issue linked to `ticket_id`; the delivery goes through
    Escalink's webhook over HTTP, then (unless `process` is False) is processed at once, as the
    background processor would once the coalescing window has passed."""
    links = stack.container.store.links_for_ticket(ticket_id)
    if not links:
        raise LookupError(f"ticket #{ticket_id} has no linked Jira issue: escalate it first")
    link = links[-1]
    hook = jira_comment_webhook(
        issue_id=link.jira_issue_id, issue_key=link.jira_key, text=text, author=author,
        secret=stack.settings.jira_webhook_secret.get_secret_value(), flavor=stack.settings.jira_flavor,
        jira_url=stack.emulators.jira_url,
    )
    hook.post(stack.url).raise_for_status()
    if not process:
        return None
    later = datetime.now(UTC) + timedelta(seconds=stack.settings.sync_coalesce_seconds + 1)
    return stack.container.inbound.process_pending(now=later)
