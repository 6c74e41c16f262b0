"""Signing in to the sidebar: the token Zendesk posts to /app/zaf becomes Escalink's own session.

Zendesk opens the app's page (`location.support.ticket_sidebar.url` in zendesk-app/manifest.json) with a
POST carrying a signed token (see `zaf_token.py` for what it holds). Escalink verifies it, sets its session
cookie and sends the browser on to the ticket's page: at once when the request names the ticket
(`ticket_id`, as the sandbox does), otherwise through a small page that asks the Apps framework in the
iframe which ticket this is. Without a verifier configured every sign-in is refused: an unverified token is
never accepted.

The sandbox signs such tokens itself, for its seeded agents. Its signer reaches the app only through
`enable_sandbox_login` (app.state), never through a setting, so a deployment cannot sign anyone in by
configuration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from escalink.domain.draft import Problem
from escalink.domain.errors import EscalinkError, NotFound
from escalink.web.ui.deps import UiUnauthorized, codec, current_session, is_htmx, page
from escalink.web.ui.session import COOKIE, SessionCodec, UiSession
from escalink.web.ui.zaf_token import TokenRefused, ZafVerifier

if TYPE_CHECKING:
    from escalink.config import Settings

router = APIRouter(prefix="/app", include_in_schema=False)
log = structlog.get_logger(__name__)

_SHELL_PATH = re.compile(r"/app/tickets/([1-9][0-9]{0,17})")
NO_STORE = {"Cache-Control": "no-store"}


class NotConfigured(UiUnauthorized):
    title = "The Escalink app is not configured"


class BadTicketId(EscalinkError):
    status = 422
    title = "The ticket number is invalid"


@dataclass(frozen=True, slots=True)
class SandboxAgent:
    """A seeded agent the sandbox signs in, with the token it signed for them."""

    email: str
    name: str
    token: str


class SandboxSignIn(Protocol):
    """Signs tokens the way Zendesk does, for the sandbox's seeded agents."""

    def sign_in(self, ticket_id: int, as_email: str | None) -> SandboxAgent | None:
        """A fresh token for the agent of the ticket's sample draft, or for `as_email`; None if unknown."""
        ...

    def agent_emails(self) -> Sequence[str]:
        """Every seeded agent's e-mail, for the page that lets one choose."""
        ...


def install(app: FastAPI, settings: Settings) -> None:
    """Add the sign-in routes; a configured but unreadable public key stops the start here."""
    app.state.zaf_verifier = ZafVerifier.from_settings(settings)
    app.state.sandbox_sign_in = None
    app.include_router(router)


def enable_sandbox_login(app: FastAPI, sign_in: SandboxSignIn) -> None:
    """Sandbox only: a request for a ticket page without a session gets a page that signs in by itself."""
    app.state.sandbox_sign_in = sign_in


@router.post("/zaf", response_class=HTMLResponse)
async def zaf_sign_in(request: Request) -> Response:
    """Zendesk's first request: verify its token, start a session, go to the ticket."""
    form = await request.form()
    ticket_id = _ticket_id(form.get("ticket_id") or request.query_params.get("ticket_id"))
    verifier: ZafVerifier | None = request.app.state.zaf_verifier
    if verifier is None:
        log.warning("zaf.sign_in_refused", reason="not_configured")
        raise NotConfigured("Escalink has no public key, issuer and audience for Zendesk's app yet, so it cannot "
                            "check who you are. Ask your Escalink administrator to set ESCALINK_ZAF_PUBLIC_KEY "
                            "and ESCALINK_ZAF_AUDIENCE.")
    token = form.get("token")
    try:
        who = verifier.verify(token if isinstance(token, str) else "")
    except TokenRefused as exc:
        log.warning("zaf.sign_in_refused", reason=exc.reason)
        raise UiUnauthorized(f"Zendesk's sign-in could not be verified ({exc.reason.replace('_', ' ')}). "
                             "Reload the ticket in Zendesk to sign in again.") from exc
    email, name, groups = who.email, who.name, who.group_ids
    if who.user_id is not None:
        # Zendesk's token names the user only: e-mail (the Jira reporter) and groups (roles) are read
        # from Zendesk itself, so they are current and never taken from anything the browser sent.
        try:
            agent = request.app.state.container.helpdesk.get_agent(who.user_id)
        except NotFound as exc:
            log.warning("zaf.sign_in_refused", reason="unknown_user", user=who.user_id)
            raise UiUnauthorized("Zendesk does not know the user this sign-in names.") from exc
        email, name, groups = agent.email or email, agent.name or name, agent.group_ids or groups
    if not email:
        log.warning("zaf.sign_in_refused", reason="no_email", user=who.user_id)
        raise UiUnauthorized("Zendesk's sign-in names no user with an e-mail address.")
    sessions = codec(request)
    session = sessions.new(email, who.user_id, groups, name=name)
    log.info("zaf.signed_in", user=who.user_id, groups=len(who.group_ids))
    response: Response
    if ticket_id is not None:
        response = RedirectResponse(f"/app/tickets/{ticket_id}", status_code=303, headers=NO_STORE)
    else:
        response = page(request, "zaf.html", session=session, csrf=session.csrf)
        response.headers.update(NO_STORE)
    set_session_cookie(response, request.app.state.container.settings, sessions, session)
    return response


@router.get("/zaf/open", response_class=HTMLResponse)
def open_ticket(ticket_id: str = Query(""), _: UiSession = Depends(current_session)) -> Response:
    """The fallback of the page above when the Apps framework cannot say which ticket is open."""
    number = _ticket_id(ticket_id)
    if number is None:
        raise BadTicketId("Enter the ticket's number.", problems=[Problem("ticket_id", "missing", "Required.")])
    return RedirectResponse(f"/app/tickets/{number}", status_code=303)


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request, _: UiSession = Depends(current_session)) -> Response:
    """End the session (the CSRF header is required, as for every change)."""
    response = page(request, "signed_out.html", session=None, csrf="")
    settings = request.app.state.container.settings
    secure = _is_https(settings)
    response.delete_cookie(COOKIE, path="/app", secure=secure, httponly=True, samesite="none" if secure else "lax")
    return response


def set_session_cookie(response: Response, settings: Settings, sessions: SessionCodec, session: UiSession) -> None:
    """HttpOnly, only for /app. Over https it is Secure and SameSite=None, so it travels inside Zendesk's
    iframe (and Partitioned, so browsers that block third-party cookies keep it for the Zendesk site);
    on a plain-http address (the sandbox on loopback) it is SameSite=Lax, as browsers refuse None there."""
    secure = _is_https(settings)
    response.set_cookie(COOKIE, sessions.encode(session), max_age=int(sessions.lifetime), path="/app",
                        httponly=True, secure=secure, samesite="none" if secure else "lax")
    if secure:  # Starlette writes Partitioned itself only on Python 3.14+, so it is added to the header here
        name, value = response.raw_headers[-1]
        response.raw_headers[-1] = (name, value + b"; Partitioned")


def sandbox_login_page(request: Request) -> HTMLResponse | None:
    """In the sandbox, the page that signs in for a ticket page asked for without a session; else None.

    It answers 401 like any request without a session, with a form posting a freshly signed token to
    /app/zaf, so the same verification runs as for Zendesk. A small script submits it at once; the
    Continue button does it by keyboard or without scripts.
    """
    sign_in: SandboxSignIn | None = getattr(request.app.state, "sandbox_sign_in", None)
    match = _SHELL_PATH.fullmatch(request.url.path)
    if sign_in is None or match is None or request.method != "GET" or is_htmx(request):
        return None
    ticket_id = int(match.group(1))
    as_email = request.query_params.get("as") or None
    agent = sign_in.sign_in(ticket_id, as_email)
    response = page(request, "sandbox_login.html", status_code=401, agent=agent, ticket_id=ticket_id,
                    as_email=as_email, agents=list(sign_in.agent_emails()))
    response.headers.update(NO_STORE)
    return response


def _is_https(settings: Settings) -> bool:
    return settings.public_url.strip().lower().startswith("https://")


def _ticket_id(raw: object) -> int | None:
    """A positive ticket number, None when absent; BadTicketId for anything else."""
    if raw is None or raw == "":
        return None
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise BadTicketId("The ticket number must be a whole number above zero.",
                          problems=[Problem("ticket_id", "invalid", "A whole number above zero.")])
    return int(text)
