"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from escalink import __version__
from escalink.bootstrap import Container
from escalink.web import problems
from escalink.web.api.audit import router as audit_router
from escalink.web.api.jobs import router as jobs_router
from escalink.web.api.routes import router as api_router
from escalink.web.api.tickets import router as tickets_router
from escalink.web.lifespan import sync_lifespan
from escalink.web.ui import routes as ui
from escalink.web.webhooks.fast_path import WebhookFastPath
from escalink.web.webhooks.routes import router as webhooks_router


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Escalink",
        version=__version__,
        description="Escalate Zendesk tickets into Jira: policy-checked fields, linked issues, ticket on hold.",
        lifespan=sync_lifespan,
    )
    app.state.container = container
    problems.install(app)
    app.include_router(api_router)
    app.include_router(tickets_router)
    app.include_router(webhooks_router)
    app.include_router(audit_router)
    app.include_router(jobs_router)
    ui.install(app, container)
    app.add_middleware(WebhookFastPath)  # answers the webhook POSTs ahead of routing

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
