"""Inbound Jira webhooks: signature check and parsing into domain events.

Pure functions over the raw body and headers, so the web layer can verify first and
parse second, and tests can feed recorded payloads straight in. Cloud and Server/Data
Center payloads are both handled; their differences are noted where they matter.
Comment bodies and changed field values never reach logs or exception messages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from escalink.adapters.headers import header_value
from escalink.adapters.jira.adf import adf_to_text
from escalink.domain.events import (
    FIELD_CATEGORIES,
    CommentEvent,
    CommentKind,
    FieldCategory,
    FieldChange,
    Ignored,
    IssueChanged,
    IssueDeleted,
    JiraDelivery,
    JiraEvent,
    WebhookPayloadError,
)

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
_SIGNATURE_PREFIX = "sha256="
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

# Server comment events carry no `issue`; the comment's REST URL is the only place that
# names the issue: .../rest/api/2/issue/{issueId}/comment/{commentId}.
_COMMENT_URL = re.compile(r"/issue/(\d+)/comment/(\d+)/?$")

_COMMENT_KIND_BY_EVENT: dict[str, CommentKind] = {
    "comment_created": "created",
    "comment_updated": "updated",
    "comment_deleted": "deleted",
}
_COMMENT_KIND_BY_TYPE: dict[str, CommentKind] = {
    "issue_commented": "created",
    "issue_comment_edited": "updated",
    "issue_comment_deleted": "deleted",
}
_IGNORED_EVENTS = {
    "jira:issue_created": "issue created: Escalink learns of its issues when it creates them",
    "attachment_created": "Jira attachments are not copied back to Zendesk",
    "attachment_deleted": "Jira attachments are not copied back to Zendesk",
}
# Rich text deeper than this is cut off: no real comment nests that far, and recursion
# stays bounded whatever the body holds.


# --- signature ----------------------------------------------------------------------------


def jira_signature(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends for `body` signed with `secret`."""
    return _SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_jira_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True when `header` is "sha256=<hex HMAC-SHA256(secret, body)>" for exactly this body.

    Other algorithms ("sha1=...") and malformed values are refused rather than
    downgraded. An empty secret is a configuration error, not a signature to accept.
    """
    if not secret:
        raise ValueError("the Jira webhook secret is empty")
    if header is None:
        return False
    value = header.strip()
    if value[: len(_SIGNATURE_PREFIX)].lower() != _SIGNATURE_PREFIX:
        return False
    hex_digest = value[len(_SIGNATURE_PREFIX) :]
    if not _HEX_SHA256.fullmatch(hex_digest):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, bytes.fromhex(hex_digest))


# --- parsing ------------------------------------------------------------------------------


def parse_jira_webhook(body: bytes, headers: Mapping[str, str]) -> JiraDelivery:
    """The delivery in `body`; raises WebhookPayloadError when it is not a Jira webhook."""
    payload = _load(body)
    event_name = payload.get("webhookEvent")
    if not isinstance(event_name, str) or not event_name:
        raise WebhookPayloadError("Jira webhook payload has no 'webhookEvent'", vendor="jira")
    event_type = payload.get("issue_event_type_name")
    if not isinstance(event_type, str) or not event_type:
        event_type = None  # Server before 7.x does not send it
    return JiraDelivery(
        delivery_id=header_value(headers, DELIVERY_HEADER),
        event_name=event_name,
        event_type=event_type,
        event=_event(payload, event_name, event_type),
    )


def _event(payload: dict[str, Any], event_name: str, event_type: str | None) -> JiraEvent:
    if event_name == "jira:issue_updated":
        return _issue_updated(payload, event_type)
    if event_name in _COMMENT_KIND_BY_EVENT:
        return _comment_event(payload, _COMMENT_KIND_BY_EVENT[event_name])
    if event_name == "jira:issue_deleted":
        issue_id, issue_key = _issue_ref(payload, event_name)
        account, display = _user(payload.get("user"))
        return IssueDeleted(issue_id, issue_key, account, display, _epoch_ms(payload.get("timestamp")))
    if event_name in _IGNORED_EVENTS:
        return Ignored(_IGNORED_EVENTS[event_name])
    return Ignored(f"Jira event {event_name[:60]!r} is not used by Escalink")


def _issue_updated(payload: dict[str, Any], event_type: str | None) -> JiraEvent:
    issue_id, issue_key = _issue_ref(payload, "jira:issue_updated")
    issue = payload["issue"]
    changes = _changelog(payload.get("changelog"))
    actor_account, actor_display = _user(payload.get("user"))

    comment: CommentEvent | None = None
    raw_comment = payload.get("comment")
    if isinstance(raw_comment, dict):
        kind = _COMMENT_KIND_BY_TYPE.get(event_type or "") or _guess_comment_kind(raw_comment)
        comment = _comment(raw_comment, kind, issue_id, issue_key, actor_account, actor_display)
    elif event_type == "issue_comment_deleted" and not changes:
        # Server reports the deletion without the comment, so which one went is unknown.
        return CommentEvent(
            "deleted", issue_id, issue_key, None, None, None, "", None, None, actor_account, actor_display
        )

    if not changes and event_type == "issue_assigned":
        # Cloud sometimes sends issue_assigned with an empty changelog; the issue itself
        # says who holds it now (who held it before is not in the payload).
        changes = _assignee_from_issue(issue)

    if changes:
        return IssueChanged(
            issue_id=issue_id,
            issue_key=issue_key,
            previous_key=_previous_key(changes, issue_key),
            actor_account=actor_account,
            actor_display=actor_display,
            timestamp=_epoch_ms(payload.get("timestamp")),
            changes=changes,
            comment=comment,
            # The history id: one per change, the same in the issue's changelog, so a change found
            # again by reconciliation is recognised.
            changelog_id=_changelog_id(payload.get("changelog")),
        )
    if comment is not None:
        return comment
    return Ignored("jira:issue_updated without changelog items or comment: nothing says what changed")


def _comment_event(payload: dict[str, Any], kind: CommentKind) -> CommentEvent:
    raw = payload.get("comment")
    if not isinstance(raw, dict):
        raise WebhookPayloadError("Jira comment event has no 'comment' object", vendor="jira")
    if isinstance(payload.get("issue"), dict):
        issue_id, issue_key = _issue_ref(payload, "comment event")
        key: str | None = issue_key
    else:
        match = _COMMENT_URL.search(str(raw.get("self") or ""))
        if match is None:
            raise WebhookPayloadError(
                "Jira comment event has neither an 'issue' nor a comment URL naming the issue", vendor="jira"
            )
        issue_id, key = match.group(1), None
    actor_account, actor_display = _user(payload.get("user"))
    if "user" not in payload:
        # Comment events often omit `user`: the author (or last editor) is the one who
        # acted, except for a deletion, where the comment does not say who deleted it.
        if kind == "created":
            actor_account, actor_display = _user(raw.get("author"))
        elif kind == "updated":
            actor_account, actor_display = _user(raw.get("updateAuthor"))
    return _comment(raw, kind, issue_id, key, actor_account, actor_display)


def _comment(
    raw: dict[str, Any],
    kind: CommentKind,
    issue_id: str,
    issue_key: str | None,
    actor_account: str | None,
    actor_display: str | None,
) -> CommentEvent:
    comment_id = _id(raw.get("id"))
    if comment_id is None:
        match = _COMMENT_URL.search(str(raw.get("self") or ""))
        comment_id = match.group(2) if match else None
    if comment_id is None:
        raise WebhookPayloadError("Jira comment has no 'id'", vendor="jira")
    author_account, author_display = _user(raw.get("author"))
    return CommentEvent(
        kind=kind,
        issue_id=issue_id,
        issue_key=issue_key,
        comment_id=comment_id,
        author_account=author_account,
        author_display=author_display,
        body=_body(raw.get("body")),
        created=_iso(raw.get("created")),
        updated=_iso(raw.get("updated")),
        actor_account=actor_account,
        actor_display=actor_display,
        visibility=_visibility(raw.get("visibility")),
    )


def _guess_comment_kind(raw: dict[str, Any]) -> CommentKind:
    # Old Server payloads have no issue_event_type_name: an edited comment is one whose
    # `updated` differs from `created`.
    created, updated = raw.get("created"), raw.get("updated")
    return "updated" if created and updated and created != updated else "created"


def _changelog(raw: object) -> tuple[FieldChange, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise WebhookPayloadError("Jira 'changelog' is not an object", vendor="jira")
    items = raw.get("items") or []
    if not isinstance(items, list):
        raise WebhookPayloadError("Jira 'changelog.items' is not a list", vendor="jira")
    changes = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise WebhookPayloadError("Jira changelog item has no 'field'", vendor="jira")
        field_id = item.get("fieldId")
        field_id = field_id if isinstance(field_id, str) and field_id else None
        changes.append(
            FieldChange(
                field=item["field"],
                from_string=_opt_str(item.get("fromString")),
                to_string=_opt_str(item.get("toString")),
                category=categorize_field(item["field"], field_id, _opt_str(item.get("fieldtype"))),
                field_id=field_id,
            )
        )
    return tuple(changes)


def _changelog_id(raw: object) -> str | None:
    return _id(raw.get("id")) if isinstance(raw, dict) else None


def categorize_field(field: str, field_id: str | None = None, field_type: str | None = None) -> FieldCategory:
    """The policy category of a changelog item (see FieldCategory); unknown fields are "other"."""
    name = field.strip().lower()
    if field_type == "custom":
        # Jira Software keeps Sprint and Rank as custom fields. Any other custom field may
        # carry a system-like name ("Priority", "Status") without being that field.
        if name == "sprint":
            return "sprint"
        return "rank" if name == "rank" or name.startswith("rank ") else "other"
    # The id wins over the name: Server omits ids, and display names can be renamed.
    candidates = ((field_id or "").strip().lower(), name)
    return next((c for wanted in candidates for c in FIELD_CATEGORIES if c == wanted), "other")


def _previous_key(changes: tuple[FieldChange, ...], current_key: str) -> str | None:
    # A move to another project changes the key (changelog field "Key") while the id stays.
    for change in changes:
        if change.field.lower() == "key" and change.from_string and change.from_string != current_key:
            return change.from_string
    return None


def _assignee_from_issue(issue: dict[str, Any]) -> tuple[FieldChange, ...]:
    fields = issue.get("fields")
    assignee = fields.get("assignee") if isinstance(fields, dict) else None
    _, display = _user(assignee)
    return (FieldChange("assignee", None, display, "assignee", "assignee"),)


# --- rich text --------------------------------------------------------------------------

def _dict(raw: object) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _body(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw  # REST v2 representation: wiki markup as typed
    if isinstance(raw, dict):
        return adf_to_text(raw)
    raise WebhookPayloadError("Jira comment 'body' is neither text nor a rich-text document", vendor="jira")


# --- small readers ------------------------------------------------------------------------


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise WebhookPayloadError("Jira webhook body is not valid JSON", vendor="jira") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("Jira webhook body is not a JSON object", vendor="jira")
    return payload


def _issue_ref(payload: dict[str, Any], what: str) -> tuple[str, str]:
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise WebhookPayloadError(f"Jira {what} payload has no 'issue' object", vendor="jira")
    issue_id, key = _id(issue.get("id")), issue.get("key")
    if issue_id is None or not isinstance(key, str) or not key:
        raise WebhookPayloadError(f"Jira {what} payload lacks issue.id or issue.key", vendor="jira")
    return issue_id, key


def _user(raw: object) -> tuple[str | None, str | None]:
    """(accountId on Cloud, else the Server user name, display name)."""
    if not isinstance(raw, dict):
        return None, None
    account = next((raw[k] for k in ("accountId", "name", "key") if isinstance(raw.get(k), str) and raw[k]), None)
    return account, _opt_str(raw.get("displayName"))


def _visibility(raw: object) -> str | None:
    if isinstance(raw, dict) and raw.get("value"):
        return f"{raw.get('type') or 'restricted'}:{raw['value']}"
    return None


def _id(raw: object) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    return raw if isinstance(raw, str) and raw.isascii() and raw.isdigit() else None


def _opt_str(raw: object) -> str | None:
    return raw if isinstance(raw, str) else None


def _epoch_ms(raw: object) -> datetime | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        return datetime.fromtimestamp(raw / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        # Jira writes offsets as "+0000"; Python 3.11 reads those directly.
        return datetime.fromisoformat(raw)
    except ValueError:
        return None
