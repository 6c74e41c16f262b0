"""Signing in to the sidebar with Zendesk's token, refusing every token that cannot be trusted, and the
sandbox's sign-in that posts a token it signed itself. Escalink runs on loopback with real RSA keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from escalink.sandbox.stack import Stack, start_stack
from escalink.web.ui.session import COOKIE, CSRF_HEADER
from escalink.web.ui.zaf_token import TokenRefused, identity_from_claims

ISSUER = "acme.zendesk.com"
AUDIENCE = "https://acme.zendesk.com/api/v2/apps/installations/4242.json"
TIER2_USER = 7001
GROUP_USER = 7002


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def zaf_stack(tmp_path_factory: pytest.TempPathFactory, public_pem: str) -> Iterator[Stack]:
    """Escalink configured as for a real Zendesk: its app's public key, issuer and audience; no sandbox login."""
    tmp = tmp_path_factory.mktemp("zaf")
    key_file = tmp / "public_key.pem"
    key_file.write_text(public_pem)
    with start_stack(database_url=f"sqlite:///{tmp / 'escalink.db'}", sandbox_login=False,
                     zaf_public_key=str(key_file), zaf_issuer=ISSUER, zaf_audience=AUDIENCE,
                     roles={str(TIER2_USER): "tier2", "group:360002": "tier2"}) as s:
        s.emulators.zendesk_state.add_user("Tess Tiernan", "tess.tiernan@example.com", role="agent",
                                           user_id=TIER2_USER)
        s.emulators.zendesk_state.add_user("Gus Grouper", "gus.grouper@example.com", role="agent",
                                           user_id=GROUP_USER).group_ids.append(360002)
        yield s


@pytest.fixture
def client(zaf_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=zaf_stack.url, timeout=30) as c:
        yield c


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300,
                            "sub": "901", "context": {"product": "support", "location": "ticket_sidebar"}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to sign these)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
def sign(private_key: rsa.RSAPrivateKey) -> Callable[..., str]:
    def make(**changes: Any) -> str:
        return jwt.encode(claims(**changes), private_key, algorithm="RS256")

    return make


def test_valid_token_signs_in_and_opens_the_shell(client: httpx.Client, sign: Callable[..., str]) -> None:
    r = client.post("/app/zaf", data={"token": sign(), "ticket_id": "101"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/app/tickets/101"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/app", "SameSite=lax"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http on loopback: browsers would drop a Secure cookie
    shell = client.get("/app/tickets/101")
    assert shell.status_code == 200, shell.text
    assert re.search(r'class="who"[^>]*>agent<', shell.text)


def test_without_ticket_the_page_asks_zendesk_which_ticket(client: httpx.Client, sign: Callable[..., str]) -> None:
    r = client.post("/app/zaf?origin=https%3A%2F%2Facme.zendesk.com&app_guid=abc", data={"token": sign()})
    assert r.status_code == 200, r.text
    assert COOKIE in r.headers["set-cookie"]
    assert '<script src="/app/static/zaf_sdk.js"' in r.text
    assert '<script src="/app/static/zaf_start.js"' in r.text
    assert r.headers["cache-control"] == "no-store"
    assert client.get("/app/static/zaf_sdk.js").status_code == 200
    assert "Apache License" in client.get("/app/static/zaf_sdk.LICENSE.txt").text
    # The fallback form opens the ticket by number, with the session just set.
    opened = client.get("/app/zaf/open", params={"ticket_id": "102"})
    assert (opened.status_code, opened.headers["location"]) == (303, "/app/tickets/102")


REFUSED: dict[str, Callable[[Callable[..., str], str], str]] = {
    "expired": lambda sign, pem: sign(iat=int(time.time()) - 900, nbf=int(time.time()) - 900,
                                      exp=int(time.time()) - 600),
    "wrong audience": lambda sign, pem: sign(aud="https://acme.zendesk.com/api/v2/apps/installations/1.json"),
    "wrong issuer": lambda sign, pem: sign(iss="evil.zendesk.com"),
    "no expiry": lambda sign, pem: sign(exp=None),
    "alg none": lambda sign, pem: forge({"alg": "none", "typ": "JWT"}, claims(), None),
    "HS256 keyed with the public PEM": lambda sign, pem: forge({"alg": "HS256", "typ": "JWT"}, claims(),
                                                                pem.encode()),
    "tampered payload": lambda sign, pem: _tamper(sign()),
    "another key": lambda sign, pem: jwt.encode(claims(), rsa.generate_private_key(65537, 2048), "RS256"),
    "not a token": lambda sign, pem: "not-a-token",
    "empty": lambda sign, pem: "",
}


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["sub"] = "902"  # try to become another agent, keeping the signature
    return f"{header}.{_b64(json.dumps(body).encode())}.{signature}"


@pytest.mark.parametrize("case", list(REFUSED))
def test_untrusted_tokens_are_refused_and_set_nothing(
    case: str, client: httpx.Client, sign: Callable[..., str], public_pem: str, capfd: pytest.CaptureFixture[str],
) -> None:
    token = REFUSED[case](sign, public_pem)
    r = client.post("/app/zaf", data={"token": token, "ticket_id": "101"})
    assert r.status_code == 401, (case, r.status_code, r.text[:300])
    assert "text/html" in r.headers["content-type"]
    assert "set-cookie" not in r.headers
    assert not client.cookies
    assert client.get("/app/tickets/101").status_code == 401
    logged = "".join(capfd.readouterr())
    assert "zaf.sign_in_refused" in logged  # refusals are logged by reason code, never with the token
    if token:
        assert token not in logged


def test_a_bad_ticket_number_is_refused_before_anything_is_set(client: httpx.Client, sign: Callable[..., str]) -> None:
    r = client.post("/app/zaf", data={"token": sign(), "ticket_id": "12abc"})
    assert r.status_code == 422
    assert "set-cookie" not in r.headers


def test_tier2_in_the_roles_mapping_gets_tier2(client: httpx.Client, sign: Callable[..., str]) -> None:
    r = client.post("/app/zaf", data={"token": sign(sub=str(TIER2_USER)), "ticket_id": "103"})
    assert r.status_code == 303
    shell = client.get("/app/tickets/103")
    assert re.search(r'class="who"[^>]*>tier2<', shell.text), shell.text


def test_changes_need_the_csrf_header(client: httpx.Client, sign: Callable[..., str]) -> None:
    client.post("/app/zaf", data={"token": sign()})
    assert client.post("/app/logout").status_code == 403
    assert client.post("/app/logout", headers={CSRF_HEADER: "forged"}).status_code == 403
    shell = client.get("/app/tickets/101")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', shell.text)
    assert csrf, shell.text
    out = client.post("/app/logout", headers={CSRF_HEADER: csrf.group(1)})
    assert out.status_code == 200
    assert f'{COOKIE}=""' in out.headers["set-cookie"]
    assert client.get("/app/tickets/101").status_code == 401


def test_production_never_signs_in_by_itself(client: httpx.Client) -> None:
    r = client.get("/app/tickets/101")
    assert r.status_code == 401
    assert "<form" not in r.text
    assert "Zendesk ticket sidebar" in r.text


def test_without_a_configured_key_every_token_is_refused(
    tmp_path: Path, private_key: rsa.RSAPrivateKey,
) -> None:
    with start_stack(database_url=f"sqlite:///{tmp_path / 'e.db'}", sandbox_login=False) as s, \
            httpx.Client(base_url=s.url) as c:
        r = c.post("/app/zaf", data={"token": jwt.encode(claims(), private_key, "RS256"), "ticket_id": "101"})
        assert r.status_code == 401
        assert "not configured" in r.text
        assert "set-cookie" not in r.headers


def test_https_cookie_fits_zendesk_iframe(
    tmp_path: Path, public_pem: str, sign: Callable[..., str],
) -> None:
    with start_stack(database_url=f"sqlite:///{tmp_path / 'e.db'}", sandbox_login=False,
                     public_url="https://escalink.example.com", zaf_public_key=public_pem, zaf_issuer=ISSUER,
                     zaf_audience=AUDIENCE) as s, httpx.Client(base_url=s.url) as c:
        cookie = c.post("/app/zaf", data={"token": sign(), "ticket_id": "101"}).headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/app", "Secure", "SameSite=none", "Partitioned"):
        assert attribute in cookie, cookie


def _follow_sandbox_form(c: httpx.Client, path: str) -> httpx.Response:
    """What the browser does: load the page, submit its form, follow the redirect."""
    page = c.get(path)
    assert page.status_code == 401
    assert 'src="/app/static/autosubmit.js"' in page.text
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert set(fields) == {"token", "ticket_id"}
    assert "<button type=\"submit\">Continue</button>" in page.text
    posted = c.post(form.group(1), data=fields)
    assert posted.status_code == 303, posted.text
    shell = c.get(posted.headers["location"])
    assert shell.status_code == 200
    return shell


def test_sandbox_signs_in_the_ticket_agent_and_others_by_choice(database_url: str) -> None:
    with start_stack(database_url=database_url) as s, httpx.Client(base_url=s.url) as c:
        shell = _follow_sandbox_form(c, "/app/tickets/101")
        assert 'title="dana.whitfield@example.com">agent<' in shell.text
        c.cookies.clear()
        shell = _follow_sandbox_form(c, "/app/tickets/101?as=lena.kowalczyk@example.com")
        assert 'title="lena.kowalczyk@example.com">tier2<' in shell.text
        c.cookies.clear()
        unknown = c.get("/app/tickets/101?as=someone@example.net")
        assert unknown.status_code == 401
        assert "<form" not in unknown.text and "?as=marcus.oyelaran%40example.com" in unknown.text
        # Panel requests made by HTMX get the plain answer, never a sign-in page swapped into the panel.
        assert "<form" not in c.get("/app/tickets/101", headers={"HX-Request": "true"}).text


def test_user_id_is_read_from_the_forms_sub_may_take() -> None:
    assert identity_from_claims({"sub": "901"}).user_id == 901
    assert identity_from_claims({"sub": 902}).user_id == 902
    assert identity_from_claims({"sub": "https://acme.zendesk.com/api/v2/users/903.json"}).user_id == 903
    who = identity_from_claims({"sub": "x", "email": "Dana.Whitfield@example.com", "group_ids": [5, "6", True]})
    assert (who.user_id, who.email, who.group_ids) == (None, "dana.whitfield@example.com", (5,))
    with pytest.raises(TokenRefused):
        identity_from_claims({"sub": "someone"})


def test_email_and_groups_come_from_zendesk_not_from_the_token(client: httpx.Client, sign: Callable[..., str]) -> None:
    token = sign(sub=str(GROUP_USER), email="someone.else@example.com", group_ids=[])
    assert client.post("/app/zaf", data={"token": token, "ticket_id": "103"}).status_code == 303
    shell = client.get("/app/tickets/103")
    assert 'title="gus.grouper@example.com"' in shell.text and "someone.else" not in shell.text
    assert re.search(r'class="who"[^>]*>tier2<', shell.text), shell.text  # via group:360002


def test_a_user_zendesk_does_not_know_is_refused(client: httpx.Client, sign: Callable[..., str]) -> None:
    r = client.post("/app/zaf", data={"token": sign(sub="999999"), "ticket_id": "103"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
