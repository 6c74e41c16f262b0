"""Receiving webhook deliveries: parse just enough to know the issue or ticket, store, answer.

Processing happens later (`escalink.services.inbound`). A delivery is de-duplicated on the
vendor's delivery identifier, else on the hash of its body.

`describe_jira` and `describe_zendesk` turn a verified delivery into the row to store; the web
layer stores it with a group commit (`escalink.adapters.db.inbound_writer`) and reports it with
`received`. `InboundReceiver.accept_jira` / `accept_zendesk` do the same in one blocking call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from escalink.adapters.headers import header_value
from escalink.adapters.jira.webhook import DELIVERY_HEADER, parse_jira_webhook
from escalink.adapters.zendesk.webhook import INVOCATION_ID_HEADER, parse_zendesk_webhook
from escalink.domain.events import TicketMerged, WebhookPayloadError
from escalink.ports.inbound_batch import NewInbound
from escalink.ports.sync_store import InboundStore

log = structlog.get_logger(__name__)

DELIVERY_ID_MAX = 128  # inbound_events.delivery_id
EVENT_TYPE_MAX = 64  # inbound_events.event_type


@dataclass(frozen=True, slots=True)
class Receipt:
    """A webhook delivery as stored; `stored` is False for a replay of one stored before."""

    stored: bool
    delivery_id: str
    event_type: str


def describe_jira(body: bytes, headers: Mapping[str, str]) -> NewInbound:
    """The row for a verified Jira delivery, keyed on its identifier (else the body's hash)."""
    delivery_id = header_value(headers, DELIVERY_HEADER) or _body_id(body)
    issue_id: str | None = None
    try:
        delivery = parse_jira_webhook(body, headers)
        event_type = delivery.event_name
        issue_id = getattr(delivery.event, "issue_id", None)
    except WebhookPayloadError:
        event_type = "malformed"  # kept so the processor records it as failed
    return NewInbound("jira", delivery_id[:DELIVERY_ID_MAX], event_type[:EVENT_TYPE_MAX], issue_id, None, body)


def describe_zendesk(body: bytes, headers: Mapping[str, str]) -> NewInbound:
    """The row for a verified Zendesk delivery, keyed on the event id (else invocation, body)."""
    ticket_id: int | None = None
    delivery_id: str | None = None
    try:
        delivery = parse_zendesk_webhook(body, headers)
        event_type = delivery.event_type or "trigger"
        delivery_id = delivery.delivery_id
        event = delivery.event
        ticket_id = event.source_ticket_id if isinstance(event, TicketMerged) else getattr(event, "ticket_id", None)
    except WebhookPayloadError:
        event_type = "malformed"
    if delivery_id is None:
        invocation = header_value(headers, INVOCATION_ID_HEADER)
        delivery_id = f"invocation:{invocation}" if invocation else _body_id(body)
    return NewInbound("zendesk", delivery_id[:DELIVERY_ID_MAX], event_type[:EVENT_TYPE_MAX], None, ticket_id, body)


def received(delivery: NewInbound, stored: bool) -> Receipt:
    """Log a delivery that is now stored (or was a replay) and say so; ids only, never the payload."""
    log.info("inbound.received", source=delivery.source, delivery=delivery.delivery_id,
             event_type=delivery.event_type, issue=delivery.issue_id, ticket=delivery.ticket_id, replay=not stored)
    return Receipt(stored, delivery.delivery_id, delivery.event_type)


class InboundReceiver:
    """Stores verified deliveries (the web layer has checked the signature)."""

    store: InboundStore

    # --- receiving ----------------------------------------------------------------------------

    def accept_jira(self, body: bytes, headers: Mapping[str, str]) -> Receipt:
        """Store a verified Jira delivery; de-duplicated on its identifier (else the body's hash)."""
        return self._record(describe_jira(body, headers))

    def accept_zendesk(self, body: bytes, headers: Mapping[str, str]) -> Receipt:
        """Store a verified Zendesk delivery; de-duplicated on the event id (else invocation, body)."""
        return self._record(describe_zendesk(body, headers))

    def _record(self, d: NewInbound) -> Receipt:
        stored = self.store.record_inbound(
            source=d.source, delivery_id=d.delivery_id, event_type=d.event_type, issue_id=d.issue_id,
            ticket_id=d.ticket_id, payload=d.payload,
        )
        return received(d, stored)


def _body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()
