"""The sidebar's routes: the ticket shell and its static files; each panel lives in its own module."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from escalink.bootstrap import Container
from escalink.services.roles import Caller
from escalink.web.deps import container
from escalink.web.ui import auth, escalate, links, notify
from escalink.web.ui.deps import HERE, current_caller, current_session, page
from escalink.web.ui.session import SessionCodec, UiSession

router = APIRouter(prefix="/app", include_in_schema=False)

# Headers that let Zendesk (and only Zendesk) frame the sidebar, and nothing load from elsewhere.
FRAME_ANCESTORS = "'self' https://*.zendesk.com https://*.zdusercontent.com https://*.apps.zdusercontent.com"


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_shell(request: Request, ticket_id: int = Path(gt=0), session: UiSession = Depends(current_session),
                 caller: Caller = Depends(current_caller), c: Container = Depends(container)) -> HTMLResponse:
    """The sidebar for one ticket: tabs for linked issues, escalate and notify."""
    return page(request, "ticket.html", ticket_id=ticket_id, caller=caller, tab="links",
                zendesk_ticket_url=c.helpdesk.ticket_url(ticket_id))


def install(app: FastAPI, c: Container) -> None:
    """Mount the sidebar on the app: routes, static files, session signing, security headers."""
    secret = c.settings.ui_session_secret.get_secret_value().encode() or secrets.token_bytes(32)
    app.state.sessions = SessionCodec(secret, c.settings.ui_session_hours * 3600)
    app.mount("/app/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.include_router(router)
    app.include_router(links.router)
    app.include_router(notify.router)
    app.include_router(escalate.router)
    auth.install(app, c.settings)

    @app.middleware("http")
    async def _frame_policy(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        if request.url.path.startswith("/app"):
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                f"frame-ancestors {FRAME_ANCESTORS}")
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
        return response
