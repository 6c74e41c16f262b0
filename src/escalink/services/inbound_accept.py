"""Receiving webhook deliveries: parse just enough to know the issue or ticket, store, answer.

Processing happens later (`escalink.services.inbound`). A delivery is de-duplicated on the
vendor's delivery identifier, else on the hash of its body.
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
from escalink.ports.sync_store import InboundStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A webhook delivery as stored; `stored` is False for a replay of one stored before."""

    stored: bool
    delivery_id: str
    event_type: str



class InboundReceiver:
    """Stores verified deliveries (the web layer has checked the signature)."""

    store: InboundStore

    # --- receiving ----------------------------------------------------------------------------

    def accept_jira(self, body: bytes, headers: Mapping[str, str]) -> Receipt:
        """Store a verified Jira delivery; de-duplicated on its identifier (else the body's hash)."""
        delivery_id = (header_value(headers, DELIVERY_HEADER) or _body_id(body))[:128]
        issue_id: str | None = None
        try:
            delivery = parse_jira_webhook(body, headers)
            event_type = delivery.event_name
            issue_id = getattr(delivery.event, "issue_id", None)
        except WebhookPayloadError:
            event_type = "malformed"  # kept so the processor records it as failed
        return self._record("jira", delivery_id, event_type, issue_id, None, body)

    def accept_zendesk(self, body: bytes, headers: Mapping[str, str]) -> Receipt:
        """Store a verified Zendesk delivery; de-duplicated on the event id (else invocation, body)."""
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
        return self._record("zendesk", delivery_id[:128], event_type, None, ticket_id, body)

    def _record(
        self, source: str, delivery_id: str, event_type: str, issue_id: str | None, ticket_id: int | None,
        body: bytes,
    ) -> Receipt:
        stored = self.store.record_inbound(
            source=source, delivery_id=delivery_id, event_type=event_type[:64], issue_id=issue_id,
            ticket_id=ticket_id, payload=body,
        )
        log.info("inbound.received", source=source, delivery=delivery_id, event_type=event_type[:64],
                 issue=issue_id, ticket=ticket_id, replay=not stored)
        return Receipt(stored, delivery_id, event_type)


def _body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()

