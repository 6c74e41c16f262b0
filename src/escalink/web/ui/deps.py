"""What every sidebar page needs: templates, the agent's session, CSRF protection, HTML errors."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from escalink.domain.errors import EscalinkError
from escalink.services.roles import Caller
from escalink.web.deps import container
from escalink.web.ui.session import COOKIE, CSRF_HEADER, SessionCodec, UiSession

if TYPE_CHECKING:
    from escalink.bootstrap import Container

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


class UiUnauthorized(EscalinkError):
    status = 401
    title = "Sign in through Zendesk"


class CsrfFailed(EscalinkError):
    status = 403
    title = "This page is out of date"


def codec(request: Request) -> SessionCodec:
    return request.app.state.sessions  # type: ignore[no-any-return]


def current_session(request: Request) -> UiSession:
    """The signed session of the agent using the sidebar; 401 without one (or with an expired one)."""
    session = codec(request).decode(request.cookies.get(COOKIE))
    if session is None:
        raise UiUnauthorized("Open this page from the Escalink app in the Zendesk ticket sidebar.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(given.encode(), session.csrf.encode()):
            raise CsrfFailed("Reload the app: the form's security token does not match your session.")
    return session


def current_caller(session: UiSession = Depends(current_session), c: Container = Depends(container)) -> Caller:
    return session.caller(c.roles)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def page(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render a sidebar template: the whole page on a normal load, only its panel for an HTMX request."""
    session = codec(request).decode(request.cookies.get(COOKIE))
    ctx.setdefault("session", session)
    ctx.setdefault("csrf", session.csrf if session else "")
    ctx["htmx"] = is_htmx(request)
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def error_page(request: Request, exc: EscalinkError) -> HTMLResponse:
    """Errors of /app pages are HTML (shown in the sidebar), not problem+json."""
    if exc.status == 401:
        from escalink.web.ui.auth import sandbox_login_page  # the sandbox signs in without Zendesk

        login = sandbox_login_page(request)
        if login is not None:
            return login
    return page(request, "error.html", status_code=exc.status, title=exc.title, detail=exc.message,
                problems=exc.problems)


def _install_filters() -> None:
    from escalink.web.ui.phi_view import for_field, highlight

    templates.env.filters["phi_highlight"] = highlight
    templates.env.filters["phi_for_field"] = for_field


_install_filters()
