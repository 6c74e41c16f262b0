"""Pure-ASGI front door for the two webhook endpoints, ahead of FastAPI's routing.

Vendors deliver webhooks in bursts and wait for the answer, so each request must cost little:
POST /webhooks/jira and POST /webhooks/zendesk are answered here straight from the raw ASGI
messages (no route matching, dependency injection or response validation), by the same
`WebhookIntake` the FastAPI routes use. Every other request passes through untouched.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from escalink.web.webhooks.routes import intake_for

_VENDORS = {"/webhooks/jira": "jira", "/webhooks/zendesk": "zendesk"}


class WebhookFastPath:
    """ASGI middleware answering the webhook POSTs itself; mount it with `app.add_middleware`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        vendor = _VENDORS.get(_route_path(scope)) if scope["type"] == "http" and scope["method"] == "POST" else None
        if vendor is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending it all: nothing to verify, store or answer
        c = scope["app"].state.container
        intake = intake_for(c)
        headers = Headers(scope=scope)
        response = await (intake.jira(c, body, headers) if vendor == "jira" else intake.zendesk(c, body, headers))
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
