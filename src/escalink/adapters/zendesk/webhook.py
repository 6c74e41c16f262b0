"""Inbound Zendesk webhooks: signature check and parsing into domain events.

Two payload families reach Escalink: event webhooks (an envelope with `type`
"zen:event-type:...", an event `id`, `detail` = the ticket, `event` = what happened)
and the older trigger/target webhooks, whose JSON body is whatever the trigger's
template renders (Escalink reads `ticket_id` and a status from it).
Comment bodies never reach logs or exception messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from escalink.adapters.headers import header_value
from escalink.domain.events import (
    Ignored,
    TicketCommentAdded,
    TicketMerged,
    TicketStatusChanged,
    WebhookPayloadError,
    ZendeskDelivery,
    ZendeskEvent,
)

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
WEBHOOK_ID_HEADER = "X-Zendesk-Webhook-Id"
INVOCATION_ID_HEADER = "X-Zendesk-Webhook-Invocation-Id"
DEFAULT_TOLERANCE = timedelta(minutes=5)

_EVENT_PREFIX = "zen:event-type:"
_TICKET_SUBJECT = re.compile(r"zen:ticket:(\d+)")
# Only the extended ISO-8601 form Zendesk sends, with an explicit offset: a bare date or
# a local time would make the replay window depend on the server's clock zone.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_SHA256_BYTES = 32
# Trigger placeholders render the status as the agent UI shows it ("On-hold").
_STATUS_ALIASES = {"on-hold": "hold", "on hold": "hold"}


# --- signature ----------------------------------------------------------------------------


def zendesk_signature(secret: bytes, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, TIMESTAMP + BODY)): the value Zendesk sends for this body."""
    return base64.b64encode(hmac.new(secret, timestamp.encode() + body, hashlib.sha256).digest()).decode()


def verify_zendesk_signature(
    secret: bytes,
    body: bytes,
    signature_b64: str | None,
    timestamp: str | None,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """True when the signature matches TIMESTAMP + BODY and the timestamp is within `tolerance` of `now`.

    The message is the timestamp header exactly as sent followed by the raw body, as
    Zendesk's current verification guide states; an older page's worked example
    concatenates them the other way round and is wrong. Timestamps too old (replays)
    or too far ahead are refused, as are malformed values and missing headers.
    `now` must be timezone-aware.
    """
    if not secret:
        raise ValueError("the Zendesk webhook signing secret is empty")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not signature_b64 or not timestamp:
        return False
    signed_at = _parse_timestamp(timestamp)
    if signed_at is None or abs(now - signed_at) > tolerance:
        return False
    try:
        given = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters
        return False
    if len(given) != _SHA256_BYTES:
        return False
    expected = hmac.new(secret, timestamp.encode() + body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def _parse_timestamp(value: str) -> datetime | None:
    if not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # e.g. month 13
        return None


# --- parsing ------------------------------------------------------------------------------


def parse_zendesk_webhook(body: bytes, headers: Mapping[str, str]) -> ZendeskDelivery:
    """The delivery in `body`; raises WebhookPayloadError when it is neither payload family."""
    payload = _load(body)
    webhook_id = header_value(headers, WEBHOOK_ID_HEADER)
    invocation_id = header_value(headers, INVOCATION_ID_HEADER)
    event_type = payload.get("type")
    if isinstance(event_type, str) and event_type.startswith(_EVENT_PREFIX):
        delivery_id = payload.get("id")
        return ZendeskDelivery(
            delivery_id=delivery_id if isinstance(delivery_id, str) and delivery_id else None,
            event_type=event_type,
            event=_envelope_event(payload, event_type[len(_EVENT_PREFIX) :]),
            webhook_id=webhook_id,
            invocation_id=invocation_id,
        )
    if "ticket_id" in payload:
        return ZendeskDelivery(None, None, _trigger_event(payload), webhook_id, invocation_id)
    raise WebhookPayloadError(
        "Zendesk webhook is neither an event envelope ('type' zen:event-type:...) nor a trigger payload"
        " with 'ticket_id'",
        vendor="zendesk",
    )


def _envelope_event(payload: dict[str, Any], kind: str) -> ZendeskEvent:
    if kind not in ("ticket.comment_added", "ticket.status_changed", "ticket.merged"):
        return Ignored(f"Zendesk event {kind[:60]!r} is not used by Escalink")
    detail = payload.get("detail")
    event = payload.get("event")
    if not isinstance(detail, dict) or not isinstance(event, dict):
        raise WebhookPayloadError(f"Zendesk {kind} envelope lacks 'detail' or 'event'", vendor="zendesk")
    ticket_id = _int(detail.get("id"))
    if ticket_id is None:
        match = _TICKET_SUBJECT.fullmatch(str(payload.get("subject") or ""))
        ticket_id = int(match.group(1)) if match else None
    if ticket_id is None:
        raise WebhookPayloadError(f"Zendesk {kind} envelope names no ticket id", vendor="zendesk")
    actor_id = _int(detail.get("actor_id"))
    occurred_at = _iso(payload.get("time"))

    if kind == "ticket.status_changed":
        current = _status(event.get("current"))
        if current is None:
            raise WebhookPayloadError("Zendesk ticket.status_changed has no 'event.current'", vendor="zendesk")
        return TicketStatusChanged(ticket_id, _status(event.get("previous")), current, actor_id, occurred_at)

    if kind == "ticket.merged":
        # The reference payloads hold no merge example: the surviving ticket is read from
        # `event.target_ticket_id` when present and left unknown otherwise.
        return TicketMerged(ticket_id, _int(event.get("target_ticket_id")), actor_id, occurred_at)

    comment = event.get("comment")
    if not isinstance(comment, dict):
        raise WebhookPayloadError("Zendesk ticket.comment_added has no 'event.comment'", vendor="zendesk")
    comment_id, public, text = _int(comment.get("id")), comment.get("is_public"), comment.get("body")
    if comment_id is None or not isinstance(public, bool) or not isinstance(text, str):
        raise WebhookPayloadError(
            "Zendesk comment lacks a numeric 'id', a boolean 'is_public' or a text 'body'", vendor="zendesk"
        )
    raw_author = comment.get("author")
    author: dict[str, Any] = raw_author if isinstance(raw_author, dict) else {}
    is_staff = author.get("is_staff")
    return TicketCommentAdded(
        ticket_id=ticket_id,
        comment_id=comment_id,
        body=text,
        public=public,
        author_id=_int(author.get("id")),
        author_name=author.get("name") if isinstance(author.get("name"), str) else None,
        author_is_staff=is_staff if isinstance(is_staff, bool) else None,
        occurred_at=occurred_at,
    )


def _trigger_event(payload: dict[str, Any]) -> ZendeskEvent:
    ticket_id = _int(payload.get("ticket_id"))
    if ticket_id is None:
        raise WebhookPayloadError("Zendesk trigger payload has a non-numeric 'ticket_id'", vendor="zendesk")
    status = _status(payload.get("ticket_status", payload.get("status")))
    if status is None:
        return Ignored(f"trigger payload for ticket {ticket_id} carries no status Escalink reads")
    return TicketStatusChanged(ticket_id, None, status)


# --- small readers ------------------------------------------------------------------------


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise WebhookPayloadError("Zendesk webhook body is not valid JSON", vendor="zendesk") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("Zendesk webhook body is not a JSON object", vendor="zendesk")
    return payload


def _status(raw: object) -> str | None:
    # Event webhooks spell statuses in capitals ("OPEN"); the REST API and Escalink use
    # lowercase ("open").
    if not isinstance(raw, str) or not raw.strip():
        return None
    value = raw.strip().lower()
    return _STATUS_ALIASES.get(value, value)


def _int(raw: object) -> int | None:
    # Event webhooks send ids as strings ("5158"); trigger templates may render either.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    return int(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else None


def _iso(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None
