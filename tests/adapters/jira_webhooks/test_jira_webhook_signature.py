"""X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalink.adapters.jira.webhook import jira_signature, verify_jira_signature

SECRET = b"escalink-test-secret"
BODY = (Path(__file__).parent / "fixtures" / "webhook-issue-updated-resolved.json").read_bytes()


def independent_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_valid_signature() -> None:
    assert jira_signature(SECRET, BODY) == independent_signature(SECRET, BODY)
    assert verify_jira_signature(SECRET, BODY, independent_signature(SECRET, BODY))


def test_hex_case_and_surrounding_space_do_not_matter() -> None:
    header = independent_signature(SECRET, BODY)
    assert verify_jira_signature(SECRET, BODY, "  " + header.upper().replace("SHA256=", "sha256=") + " ")


def test_wrong_secret() -> None:
    assert not verify_jira_signature(b"another-secret", BODY, independent_signature(SECRET, BODY))


def test_tampered_body() -> None:
    header = independent_signature(SECRET, BODY)
    assert not verify_jira_signature(SECRET, BODY.replace(b"Done", b"Dune", 1), header)
    assert not verify_jira_signature(SECRET, BODY + b" ", header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(),  # no prefix
        "sha1=" + hmac.new(SECRET, BODY, hashlib.sha1).hexdigest(),  # other algorithm
        "sha512=" + hmac.new(SECRET, BODY, hashlib.sha512).hexdigest(),
        "sha256:" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()[:-2],  # truncated
        "sha256=" + "zz" * 32,  # not hex
        "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest() + "00",
    ],
)
def test_wrong_prefix_and_malformed_headers_are_refused(header: str | None) -> None:
    assert not verify_jira_signature(SECRET, BODY, header)


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        verify_jira_signature(b"", BODY, independent_signature(b"", BODY))


@given(secret=st.binary(min_size=1, max_size=64), body=st.binary(max_size=512))
def test_round_trip(secret: bytes, body: bytes) -> None:
    header = jira_signature(secret, body)
    assert verify_jira_signature(secret, body, header)
    assert not verify_jira_signature(secret, body + b"x", header)
    assert not verify_jira_signature(secret + b"x", body, header)
