"""X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(secret, TIMESTAMP + BODY)), timestamp within 5 minutes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalink.adapters.zendesk.webhook import verify_zendesk_signature, zendesk_signature

FIXTURES = Path(__file__).parent / "fixtures"
VECTOR = json.loads((FIXTURES / "zendesk-event-webhook-docs-examples.json").read_bytes())["signature_test_vector"]

SECRET = b"dGhpcy1pcy1hLWZpY3Rpb25hbC1zZWNyZXQ="
BODY = (FIXTURES / "ticket.status_changed.json").read_bytes()
STAMP = "2025-01-08T16:45:21Z"
NOW = datetime(2025, 1, 8, 16, 45, 30, tzinfo=UTC)


def independent_signature(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


GOOD = independent_signature(SECRET, STAMP.encode() + BODY)


def test_valid_signature() -> None:
    assert zendesk_signature(SECRET, BODY, STAMP) == GOOD
    assert verify_zendesk_signature(SECRET, BODY, GOOD, STAMP, NOW)


def test_docs_vector_uses_the_reversed_order_and_is_refused() -> None:
    """The old page's worked example signs BODY + TIMESTAMP; Escalink follows the current rule, TIMESTAMP + BODY."""
    secret, body, stamp = VECTOR["signing_secret"].encode(), VECTOR["body"].encode(), VECTOR["timestamp"]
    at = datetime.fromisoformat(stamp)
    assert not verify_zendesk_signature(secret, body, VECTOR["signature"], stamp, at)
    assert independent_signature(secret, body + stamp.encode()) == VECTOR["signature"]
    assert verify_zendesk_signature(secret, body, independent_signature(secret, stamp.encode() + body), stamp, at)


def test_wrong_secret() -> None:
    assert not verify_zendesk_signature(b"another-secret", BODY, GOOD, STAMP, NOW)


def test_tampered_body() -> None:
    assert not verify_zendesk_signature(SECRET, BODY.replace(b"SOLVED", b"CLOSED"), GOOD, STAMP, NOW)


def test_the_timestamp_is_part_of_what_is_signed() -> None:
    assert not verify_zendesk_signature(SECRET, BODY, GOOD, "2025-01-08T16:45:22Z", NOW)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(0), True),
        (timedelta(minutes=5), True),  # the window's edges are inside
        (-timedelta(minutes=5), True),
        (timedelta(minutes=5, seconds=1), False),  # stale: a replay
        (-timedelta(minutes=5, seconds=1), False),  # from the future
        (timedelta(days=365), False),
    ],
)
def test_timestamp_window(offset: timedelta, accepted: bool) -> None:
    signed_at = NOW - offset
    stamp = signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = independent_signature(SECRET, stamp.encode() + BODY)
    assert verify_zendesk_signature(SECRET, BODY, signature, stamp, NOW) is accepted


def test_custom_tolerance() -> None:
    assert not verify_zendesk_signature(SECRET, BODY, GOOD, STAMP, NOW, tolerance=timedelta(seconds=5))


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "yesterday",
        "2025-01-08",
        "2025-01-08T16:45:21",
        "2025-01-08 16:45:21Z",
        "2025-13-08T16:45:21Z",
        "1736354721",
    ],
)
def test_malformed_timestamps(stamp: str) -> None:
    signature = independent_signature(SECRET, stamp.encode() + BODY)
    assert not verify_zendesk_signature(SECRET, BODY, signature, stamp, NOW)


def test_offsets_other_than_z_are_read() -> None:
    stamp = "2025-01-08T17:45:21+01:00"
    signature = independent_signature(SECRET, stamp.encode() + BODY)
    assert verify_zendesk_signature(SECRET, BODY, signature, stamp, NOW)


@pytest.mark.parametrize(
    ("signature", "stamp"),
    [
        (None, STAMP),
        (GOOD, None),
        (None, None),
        ("", STAMP),
        ("not base64!", STAMP),
        ("sha256=" + GOOD, STAMP),
        (GOOD[:-4], STAMP),
        (base64.b64encode(b"short").decode(), STAMP),
        ("Ünïcode", STAMP),
    ],
)
def test_missing_and_malformed_signatures(signature: str | None, stamp: str | None) -> None:
    assert not verify_zendesk_signature(SECRET, BODY, signature, stamp, NOW)


def test_misuse_is_loud() -> None:
    with pytest.raises(ValueError):
        verify_zendesk_signature(b"", BODY, GOOD, STAMP, NOW)
    with pytest.raises(ValueError):
        verify_zendesk_signature(SECRET, BODY, GOOD, STAMP, NOW.replace(tzinfo=None))


@given(
    secret=st.binary(min_size=1, max_size=64),
    body=st.binary(max_size=512),
    skew=st.integers(min_value=-300, max_value=300),
)
def test_round_trip(secret: bytes, body: bytes, skew: int) -> None:
    stamp = (NOW + timedelta(seconds=skew)).isoformat().replace("+00:00", "Z")
    signature = zendesk_signature(secret, body, stamp)
    assert verify_zendesk_signature(secret, body, signature, stamp, NOW)
    assert not verify_zendesk_signature(secret, body + b"x", signature, stamp, NOW)
    assert not verify_zendesk_signature(secret + b"x", body, signature, stamp, NOW)
