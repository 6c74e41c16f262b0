"""Every Zendesk webhook body in the reference set, and what Escalink makes of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalink.adapters.zendesk.webhook import parse_zendesk_webhook
from escalink.domain.events import (
    Ignored,
    TicketCommentAdded,
    TicketMerged,
    TicketStatusChanged,
    WebhookPayloadError,
    ZendeskEvent,
)

FIXTURES = Path(__file__).parent / "fixtures"
DOCS = "zendesk-event-webhook-docs-examples.json"


@dataclass(frozen=True)
class Expect:
    event: type[ZendeskEvent] | type[WebhookPayloadError]
    ticket_id: int | None = None
    delivery_id: str | None = None
    detail: tuple[Any, ...] = ()  # (previous, current) or (comment_id, public)
    reason: str | None = None  # a phrase of Ignored.reason or of the error


# Keys are file names; the docs file holds several envelopes, keyed "file#entry".
DECISIONS: dict[str, Expect] = {
    "ticket.comment_added.json": Expect(
        TicketCommentAdded, 5158, "d4f5c389-8f4a-4c2e-a1b9-8e4f39c71d52", (9876543210, True)
    ),
    "ticket.status_changed.json": Expect(
        TicketStatusChanged, 5158, "a8b9c1d2-3e4f-5a6b-7c8d-9e0f1a2b3c4d", ("open", "solved")
    ),
    f"{DOCS}#user.active_changed": Expect(
        Ignored, None, "2b24ef10-19d4-4740-93cf-8f98ec4776c0", reason="user.active_changed"
    ),
    f"{DOCS}#messaging_ticket.message_added": Expect(
        Ignored, None, "01JQMQH83YNAKWSWJ8B1QH2NSC", reason="messaging_ticket.message_added"
    ),
    f"{DOCS}#ticket.attachment_linked_to_comment": Expect(
        Ignored, None, "030a3f7a-9bb9-47a4-9a36-6aa8f1d66783", reason="attachment_linked_to_comment"
    ),
    # Trigger payloads: only the current status, no event id.
    "zulip-ticket_create_update.json": Expect(TicketStatusChanged, 7, None, (None, "open")),
    "zulip-message_with_ticket_id_and_title.json": Expect(Ignored, None, None, reason="no status"),
    "zulip-ticket_user_provided_message_and_topic.json": Expect(WebhookPayloadError, reason="'ticket_id'"),
}


def body_of(key: str) -> bytes:
    name, _, entry = key.partition("#")
    if not entry:
        return (FIXTURES / name).read_bytes()
    return json.dumps(json.loads((FIXTURES / name).read_bytes())[entry]["payload"]).encode()


def envelope(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return payload


def parse(payload: dict[str, Any]) -> ZendeskEvent:
    return parse_zendesk_webhook(json.dumps(payload).encode(), {}).event


def test_the_table_covers_every_fixture_and_every_documented_envelope() -> None:
    assert {k.partition("#")[0] for k in DECISIONS} == {p.name for p in FIXTURES.glob("*.json")}
    documented = {f"{DOCS}#{k}" for k, v in envelope(DOCS).items() if isinstance(v, dict) and "payload" in v}
    assert documented == {k for k in DECISIONS if k.startswith(f"{DOCS}#")}


@pytest.mark.parametrize("key", sorted(DECISIONS))
def test_decision(key: str) -> None:
    expect = DECISIONS[key]
    if expect.event is WebhookPayloadError:
        with pytest.raises(WebhookPayloadError) as info:
            parse_zendesk_webhook(body_of(key), {})
        assert expect.reason and expect.reason in str(info.value)
        return
    delivery = parse_zendesk_webhook(body_of(key), {})
    event = delivery.event
    assert type(event) is expect.event
    assert delivery.delivery_id == expect.delivery_id
    if isinstance(event, Ignored):
        assert expect.reason and expect.reason in event.reason
    elif isinstance(event, TicketStatusChanged):
        assert event.ticket_id == expect.ticket_id
        assert (event.previous, event.current) == expect.detail
    elif isinstance(event, TicketCommentAdded):
        assert event.ticket_id == expect.ticket_id
        assert (event.comment_id, event.public) == expect.detail


def test_comment_added_fields() -> None:
    delivery = parse_zendesk_webhook(body_of("ticket.comment_added.json"), {})
    event = delivery.event
    assert isinstance(event, TicketCommentAdded)
    assert event.body == "We are investigating this issue and will update you shortly."
    assert (event.author_id, event.author_name, event.author_is_staff) == (8447388090495, "Support Agent", True)
    assert event.occurred_at == datetime(2025, 1, 8, 14, 25, 30, 123456, tzinfo=UTC)
    assert delivery.event_type == "zen:event-type:ticket.comment_added"


def test_status_change_actor_and_time() -> None:
    event = parse(envelope("ticket.status_changed.json"))
    assert isinstance(event, TicketStatusChanged)
    assert event.actor_id == 8447388090494
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None


def test_internal_note() -> None:
    payload = envelope("ticket.comment_added.json")
    payload["event"]["comment"]["is_public"] = False
    event = parse(payload)
    assert isinstance(event, TicketCommentAdded) and event.public is False


def test_ticket_id_falls_back_to_the_subject() -> None:
    payload = envelope("ticket.status_changed.json")
    del payload["detail"]["id"]
    event = parse(payload)
    assert isinstance(event, TicketStatusChanged) and event.ticket_id == 5158


def test_merge() -> None:
    payload = envelope("ticket.status_changed.json")
    payload["type"] = "zen:event-type:ticket.merged"
    payload["event"] = {"target_ticket_id": "6001"}
    event = parse(payload)
    assert event == TicketMerged(5158, 6001, 8447388090494, datetime(2025, 1, 8, 16, 45, 20, 987654, tzinfo=UTC))
    payload["event"] = {}
    event = parse(payload)
    assert isinstance(event, TicketMerged) and event.target_ticket_id is None


def test_trigger_status_spelling_is_normalised() -> None:
    event = parse({"ticket_id": 12, "ticket_status": "On-hold"})
    assert event == TicketStatusChanged(12, None, "hold")


def test_headers_name_the_webhook_and_invocation() -> None:
    headers = envelope(DOCS)["request_headers_example"]["headers"]
    delivery = parse_zendesk_webhook(body_of("ticket.status_changed.json"), headers)
    assert delivery.webhook_id == "01F1KRFQ6BG29CNWFR60NK5FNY"
    assert delivery.invocation_id == "8350205582"


@pytest.mark.parametrize(
    ("payload", "phrase"),
    [
        ({"type": "zen:event-type:ticket.status_changed", "detail": {"id": "1"}}, "'event'"),
        ({"type": "zen:event-type:ticket.status_changed", "detail": {}, "event": {"current": "OPEN"}}, "ticket id"),
        ({"type": "zen:event-type:ticket.status_changed", "detail": {"id": "1"}, "event": {}}, "event.current"),
        ({"type": "zen:event-type:ticket.comment_added", "detail": {"id": "1"}, "event": {}}, "event.comment"),
        ({"ticket_id": "seven"}, "non-numeric"),
        ({"hello": "world"}, "neither"),
    ],
)
def test_malformed_payloads_raise_a_clear_error(payload: dict[str, Any], phrase: str) -> None:
    with pytest.raises(WebhookPayloadError) as info:
        parse(payload)
    assert phrase in str(info.value)


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"\xff"])
def test_non_json_bodies(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_zendesk_webhook(body, {})


def test_errors_never_quote_comment_bodies() -> None:
    payload = envelope("ticket.comment_added.json")
    payload["event"]["comment"]["is_public"] = "Member DOB 1980-01-02"
    payload["event"]["comment"]["body"] = "Member DOB 1980-01-02"
    with pytest.raises(WebhookPayloadError) as info:
        parse(payload)
    assert "1980" not in str(info.value)
